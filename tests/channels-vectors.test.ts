/**
 * The platforms' published verification vectors (SECURITY.md), checked against our verifiers and, for
 * Slack, through the real route with the clock pinned to the example's timestamp.
 */
import { afterAll, expect, test } from 'bun:test'
import { testApp } from './helpers'
import { ManualClock } from '../src/clock'
import { startFakePlatforms } from './fixtures/fake-platforms'
import { ed25519Sign, RFC8032_EMPTY_SIG, RFC8032_PUBLIC } from './fixtures/channel-kit'
import { slackSignature, verifySlack } from '../plugins/channels/slack'
import { verifyDiscord } from '../plugins/channels/discord'
import { whatsappChallenge, whatsappSignature } from '../plugins/channels/whatsapp'

// Slack's "Verifying requests from Slack" example.
const SLACK_SECRET = '8f742231b10e8888abcd99yyyzzz85a5'
const SLACK_TS = '1531420618'
const SLACK_BODY = 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c'
const SLACK_SIG = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503'

const clock = new ManualClock(Number(SLACK_TS) * 1000)
const fake = await startFakePlatforms()
const t = testApp({ clock, env: { ...fake.env } })
afterAll(() => { t.close(); fake.close() })

test('Slack: the documented example signature, and the 300 s window on a pinned clock', () => {
  expect(slackSignature(SLACK_SECRET, SLACK_TS, SLACK_BODY)).toBe(SLACK_SIG)
  const now = Number(SLACK_TS) * 1000
  expect(verifySlack(SLACK_SECRET, SLACK_SIG, SLACK_TS, SLACK_BODY, now)).toBe(true)
  expect(verifySlack(SLACK_SECRET, SLACK_SIG, SLACK_TS, SLACK_BODY, now + 300_000)).toBe(true)
  expect(verifySlack(SLACK_SECRET, SLACK_SIG, SLACK_TS, SLACK_BODY, now + 301_000)).toBe(false)
  expect(verifySlack(SLACK_SECRET, SLACK_SIG, SLACK_TS, SLACK_BODY + 'x', now)).toBe(false)
  expect(verifySlack(SLACK_SECRET + 'x', SLACK_SIG, SLACK_TS, SLACK_BODY, now)).toBe(false)
})

test('Slack: the example request passes the real route while the clock is at its timestamp, and not 301 s later', async () => {
  const owner = await t.user()
  const ws = (await t.req('POST', '/api/workspaces', { token: owner.token, body: { name: 'w' } })).body.workspace
  const bot = (await t.req('POST', '/api/bots', { token: owner.token, body: { name: 'Slack vector', platform: 'slack', workspace_id: ws.id, system_prompt: 'x', platform_config: { bot_token: 'xoxb-1', signing_secret: SLACK_SECRET } } })).body.bot
  expect((await t.req('POST', `/api/bots/${bot.id}/activate`, { token: owner.token })).status).toBe(200)
  const send = (body: string, sig = SLACK_SIG) => t.req('POST', `/api/bots/webhook/slack/${bot.id}`, {
    raw: body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': SLACK_TS, 'x-slack-signature': sig },
  })
  const ok = await send(SLACK_BODY)
  expect(ok.status).toBe(200) // verified; a slash command is not an Events API message, so nothing is queued
  expect((await send(SLACK_BODY.replace('roadrunner', 'coyote'))).status).toBe(401)
  expect((await send(SLACK_BODY, SLACK_SIG.replace('a2114', 'a2115'))).status).toBe(401)
  clock.advance(301_000)
  expect((await send(SLACK_BODY)).status).toBe(401)
  clock.set(Number(SLACK_TS) * 1000)
  expect(t.k.db.query('SELECT count(*) AS n FROM channel_inbox').get()).toEqual({ n: 0 })
})

test('Discord: RFC 8032 test 1 key signs the published empty-message signature; our verifier checks timestamp + body', () => {
  expect(ed25519Sign('')).toBe(RFC8032_EMPTY_SIG)
  const body = '{"type":1}', ts = '1710000000', NOW = 1710000000 * 1000
  const sig = ed25519Sign(ts + body)
  expect(verifyDiscord(RFC8032_PUBLIC, sig, ts, body, NOW)).toBe(true)
  expect(verifyDiscord(RFC8032_PUBLIC.toUpperCase(), sig, ts, body, NOW)).toBe(true)
  expect(verifyDiscord(RFC8032_PUBLIC, sig, '1710000001', body, NOW)).toBe(false)
  expect(verifyDiscord(RFC8032_PUBLIC, sig, ts, '{"type":2}', NOW)).toBe(false)
  expect(verifyDiscord(RFC8032_PUBLIC, 'zz', ts, body, NOW)).toBe(false)
  expect(verifyDiscord(RFC8032_PUBLIC, null, ts, body, NOW)).toBe(false)
  expect(verifyDiscord('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', sig, ts, body, NOW)).toBe(false) // RFC 8032 test 2 key
})

test('WhatsApp: the known answer, and the GET handshake rules', () => {
  expect(whatsappSignature("It's a Secret to Everybody", 'Hello, World!')).toBe('sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17')
  expect(whatsappChallenge('tok', { 'hub.mode': 'subscribe', 'hub.verify_token': 'tok', 'hub.challenge': '42' })).toBe('42')
  expect(whatsappChallenge('tok', { 'hub.mode': 'subscribe', 'hub.verify_token': 'tok2', 'hub.challenge': '42' })).toBeNull()
  expect(whatsappChallenge('tok', { 'hub.mode': 'subscribe', 'hub.challenge': '42' })).toBeNull()
  expect(whatsappChallenge('', { 'hub.mode': 'subscribe', 'hub.verify_token': '', 'hub.challenge': '42' })).toBeNull()
})
