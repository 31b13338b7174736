import { afterAll, expect, test } from 'bun:test'
import { testApp } from './helpers'
import { ManualClock } from '../src/clock'
import { startFakePlatforms } from './fixtures/fake-platforms'
import { DISCORD_APP, ed25519Sign, RFC8032_PUBLIC } from './fixtures/channel-kit'
import { verifyDiscord } from '../plugins/channels/discord'

/**
 * Issue 11 item 10: a Discord interaction signed long ago (a captured 2023 request) is refused, as Slack's are:
 * the signed X-Signature-Timestamp must be within 300 s of our clock. Pinned clock, RFC 8032 test-1 key.
 */

const NOW_S = 1_780_000_000
const clock = new ManualClock(NOW_S * 1000)
const fake = await startFakePlatforms()
const t = testApp({ clock, env: { ...fake.env } })
afterAll(() => { t.close(); fake.close() })

const PING = JSON.stringify({ id: '1', application_id: DISCORD_APP, type: 1, token: 'x', version: 1 })

test('verifier: outside 300 s either way of now is refused; inside is accepted', () => {
  const at = (s: number) => verifyDiscord(RFC8032_PUBLIC, ed25519Sign(String(s) + PING), String(s), PING, NOW_S * 1000)
  expect(at(NOW_S)).toBe(true)
  expect(at(NOW_S - 300)).toBe(true)
  expect(at(NOW_S + 300)).toBe(true)
  expect(at(NOW_S - 301)).toBe(false)
  expect(at(NOW_S + 301)).toBe(false)
  expect(at(1_680_000_000)).toBe(false) // 2023
  expect(verifyDiscord(RFC8032_PUBLIC, ed25519Sign('abc' + PING), 'abc', PING, NOW_S * 1000)).toBe(false)
})

test('the real route: a validly signed 2023 PING is 401, a fresh one is answered', async () => {
  const owner = await t.user()
  const ws = (await t.req('POST', '/api/workspaces', { token: owner.token, body: { name: 'w' } })).body.workspace
  const bot = (await t.req('POST', '/api/bots', { token: owner.token, body: { name: 'D', platform: 'discord', workspace_id: ws.id, system_prompt: 'x', platform_config: { application_id: DISCORD_APP, public_key: RFC8032_PUBLIC } } })).body.bot
  await t.req('POST', `/api/bots/${bot.id}/activate`, { token: owner.token })
  const send = (ts: string) => t.req('POST', `/api/bots/webhook/discord/${bot.id}`, {
    raw: PING, headers: { 'content-type': 'application/json', 'x-signature-timestamp': ts, 'x-signature-ed25519': ed25519Sign(ts + PING) },
  })
  const old = await send('1680000000')
  expect(old.status).toBe(401)
  const fresh = await send(String(NOW_S))
  expect(fresh.status).toBe(200)
  expect(fresh.body).toEqual({ type: 1 })
})
