/**
 * The durable inbox: group commit semantics, acknowledged-but-unprocessed items picked up in order when
 * the worker starts, paused bots' items dropped, and the attempts cap.
 */
import { afterAll, expect, test } from 'bun:test'
import { testApp, until } from './helpers'
import { startFakePlatforms } from './fixtures/fake-platforms'
import { startFakeLlm } from './fixtures/fake-llm'
import { telegramKit } from './fixtures/channel-kit'
import { GroupCommit } from '../src/db/group-commit'
import { MAX_ATTEMPTS, runtimeOf } from '../plugins/channels/worker'

const fake = await startFakePlatforms()
const llm = await startFakeLlm()
const t = testApp({ env: { ...fake.env, OPENAI_BASE_URL: llm.openaiBase, OPENAI_API_KEY: 'sk-test' } })
const owner = await t.user()
const ws = (await t.req('POST', '/api/workspaces', { token: owner.token, body: { name: 'w' } })).body.workspace
afterAll(() => { t.close(); fake.close(); llm.close() })

let n = 0
async function telegramBot() {
  const bot = (await t.req('POST', '/api/bots', { token: owner.token, body: { name: `tg ${++n}`, platform: 'telegram', workspace_id: ws.id, system_prompt: 'x', platform_config: telegramKit.config, llm_provider: 'openai', llm_model: 'gpt-4o-mini' } })).body.bot
  expect((await t.req('POST', `/api/bots/${bot.id}/activate`, { token: owner.token })).status).toBe(200)
  return bot.id as string
}
const deliver = (botId: string, id: number, chat: string, text: string) => {
  const r = telegramKit.request({ id, chat, user: chat, text })
  return t.req('POST', `/api/bots/webhook/telegram/${botId}`, { raw: r.raw, headers: r.headers })
}
const rows = (botId: string) => t.k.db.query<{ status: string; error: string | null; attempts: number }, [string]>('SELECT status, error, attempts FROM channel_inbox WHERE bot_id = ? ORDER BY id').all(botId)
const waitFor = (ok: () => boolean, what: string) => until(ok, 15_000, what)

test('group commit: writes submitted together commit in one transaction and resolve only after it', async () => {
  const gc = new GroupCommit(t.k.db, { gatherMs: 50 })
  t.k.db.exec('CREATE TABLE IF NOT EXISTS gc_probe (v INTEGER NOT NULL UNIQUE)')
  const before = gc.batches
  const results = Array.from({ length: 20 }, (_, i) => gc.run(() => t.k.db.query('INSERT INTO gc_probe (v) VALUES (?)').run(i).changes))
  // Nothing is written before the gathering window closes: no caller could have been acknowledged.
  expect(t.k.db.query('SELECT count(*) AS n FROM gc_probe').get()).toEqual({ n: 0 })
  expect(await Promise.all(results)).toEqual(Array(20).fill(1))
  expect(gc.batches - before).toBe(1)
  expect(t.k.db.query('SELECT count(*) AS n FROM gc_probe').get()).toEqual({ n: 20 })
  // One failing write fails only its own caller; the others still commit.
  const ok = gc.run(() => t.k.db.query('INSERT INTO gc_probe (v) VALUES (?)').run(100).changes)
  const dup = gc.run(() => t.k.db.query('INSERT INTO gc_probe (v) VALUES (?)').run(0).changes)
  const ok2 = gc.run(() => t.k.db.query('INSERT INTO gc_probe (v) VALUES (?)').run(101).changes)
  expect(await ok).toBe(1)
  await expect(dup).rejects.toThrow()
  expect(await ok2).toBe(1)
  expect(t.k.db.query('SELECT count(*) AS n FROM gc_probe').get()).toEqual({ n: 22 })
})

test('acknowledged deliveries wait durably until the worker starts, then are answered in arrival order', async () => {
  const id = await telegramBot()
  const paused = await telegramBot()
  llm.reply({ text: 'a1' }, { text: 'a2' }, { text: 'a3' })
  for (const [i, text] of ['m1', 'm2', 'm3'].entries()) expect((await deliver(id, 9100 + i, '77001', text)).status).toBe(200)
  expect((await deliver(paused, 9200, '77002', 'too late')).status).toBe(200)
  expect(rows(id).map((r) => r.status)).toEqual(['pending', 'pending', 'pending'])
  expect(llm.requests.length).toBe(0)
  // A bot paused after its message was acknowledged does not answer it.
  expect((await t.req('POST', `/api/bots/${paused}/pause`, { token: owner.token })).status).toBe(200)
  // An item that already failed MAX_ATTEMPTS times (it crashed the process each time) is given up.
  expect((await deliver(id, 9300, '77003', 'poison')).status).toBe(200)
  t.k.db.query("UPDATE channel_inbox SET attempts = ?, status = 'processing' WHERE dedupe_key = 'update:9300'").run(MAX_ATTEMPTS)

  runtimeOf(t.k).sendBackoffMs = 5
  t.k.workers.start('channels.inbox')
  await waitFor(() => rows(id).every((r) => r.status === 'done' || r.status === 'failed') && rows(paused)[0].status === 'failed', 'all processed')
  expect(telegramKit.replies(fake, '77001')).toEqual(['a1', 'a2', 'a3'])
  expect(rows(paused)).toEqual([{ status: 'failed', error: 'bot is paused', attempts: 0 }])
  expect(telegramKit.replies(fake, '77002')).toEqual([])
  expect(rows(id).at(-1)).toMatchObject({ status: 'failed', error: `gave up after ${MAX_ATTEMPTS} attempts` })
  expect(telegramKit.replies(fake, '77003')).toEqual([])
  expect(llm.requests.length).toBe(3)
})
