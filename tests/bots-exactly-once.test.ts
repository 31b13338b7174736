/**
 * Hardening 11: a bot's answer (run, reply, history rows, events, debit) and the reply stored on its inbox item
 * commit together, so an inbox item retried after a crash re-sends the recorded reply instead of running the
 * agent again, and the bot's events for one message are published once (one id per message and event).
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database } from 'bun:sqlite'
import { testApp } from './helpers'
import { startFakePlatforms } from './fixtures/fake-platforms'
import { startFakeLlm } from './fixtures/fake-llm'
import { telegramKit, TELEGRAM_SECRET } from './fixtures/channel-kit'
import { killAll, startServerProcess } from './fixtures/server-process'
import { runtimeOf } from '../plugins/channels/worker'
import { until } from './endpoints-kit'

const fake = await startFakePlatforms()
const llm = await startFakeLlm()
const dirs: string[] = []
afterAll(() => {
  killAll()
  fake.close(); llm.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const counts = (db: Database, botId: string) => ({
  user: (db.query("SELECT count(*) AS n FROM bot_messages WHERE bot_id = ? AND role = 'user'").get(botId) as { n: number }).n,
  assistant: (db.query("SELECT count(*) AS n FROM bot_messages WHERE bot_id = ? AND role = 'assistant'").get(botId) as { n: number }).n,
  sent: (db.query("SELECT count(*) AS n FROM events WHERE type = 'bot.message.sent' AND json_extract(data, '$.bot_id') = ?").get(botId) as { n: number }).n,
  received: (db.query("SELECT count(*) AS n FROM events WHERE type = 'bot.message.received' AND json_extract(data, '$.bot_id') = ?").get(botId) as { n: number }).n,
  runs: (db.query("SELECT count(*) AS n FROM runs WHERE source = 'bot' AND source_id = ?").get(botId) as { n: number }).n,
  debits: (db.query("SELECT count(*) AS n FROM wallet_ledger WHERE kind = 'debit' AND reason = 'bot'").get() as { n: number }).n,
})

test('the answer and its stored reply are one transaction: a failed reply write keeps nothing, the retry answers once', async () => {
  const t = testApp({ env: { ...fake.env, OPENAI_BASE_URL: llm.openaiBase, OPENAI_API_KEY: 'sk-test' } })
  try {
    runtimeOf(t.k).sendBackoffMs = 5
    const owner = await t.user()
    const ws = (await t.req('POST', '/api/workspaces', { token: owner.token, body: { name: 'w' } })).body.workspace
    const bot = (await t.req('POST', '/api/bots', { token: owner.token, body: { name: 'once', platform: 'telegram', workspace_id: ws.id, system_prompt: 'x', platform_config: telegramKit.config, llm_provider: 'openai', llm_model: 'gpt-4o-mini' } })).body.bot
    expect((await t.req('POST', `/api/bots/${bot.id}/activate`, { token: owner.token })).status).toBe(200)
    // The reply cannot be stored on the inbox item (as if the process died right after the answer was recorded).
    t.k.db.exec("CREATE TRIGGER block_reply BEFORE UPDATE OF reply ON channel_inbox BEGIN SELECT RAISE(ABORT, 'simulated crash'); END")
    t.k.workers.start('channels.inbox')
    llm.reply({ text: 'first try', usage: { input: 10, output: 5 } })
    const r = telegramKit.request({ id: 777001, chat: '9990001', user: '9990001', text: 'hello once' })
    expect((await t.req('POST', `/api/bots/webhook/telegram/${bot.id}`, { raw: r.raw, headers: r.headers })).status).toBe(200)
    await until(() => (t.k.db.query('SELECT attempts FROM channel_inbox').get() as { attempts: number } | null)?.attempts === 1 && llm.requests.length > 0)
    await Bun.sleep(100)
    expect(counts(t.k.db, bot.id)).toEqual({ user: 0, assistant: 0, sent: 0, received: 0, runs: 0, debits: 0 })
    expect(t.k.db.query('SELECT status, reply FROM channel_inbox').get()).toEqual({ status: 'processing', reply: null })

    // "Restart": the item is answered once; nothing of the failed attempt shows up twice.
    await t.k.workers.stopAll()
    t.k.db.exec('DROP TRIGGER block_reply')
    llm.reply({ text: 'second try', usage: { input: 10, output: 5 } })
    t.k.workers.start('channels.inbox')
    await fake.waitFor((c) => c.method === 'sendMessage' && String(c.body.chat_id) === '9990001')
    await until(() => (t.k.db.query('SELECT status FROM channel_inbox').get() as { status: string }).status === 'done')
    expect(telegramKit.replies(fake, '9990001')).toEqual(['second try'])
    expect(counts(t.k.db, bot.id)).toEqual({ user: 1, assistant: 1, sent: 1, received: 1, runs: 1, debits: 1 })
  } finally {
    t.close()
  }
})

test('SIGKILL after the answer was recorded, before the platform took the reply: restarted, it re-sends, never regenerates', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentbase-once-'))
  dirs.push(dir)
  const env = { TELEGRAM_API_URL: fake.env.TELEGRAM_API_URL, OPENAI_BASE_URL: llm.openaiBase, OPENAI_API_KEY: 'sk-test', AGENTBASE_PUBLIC_URL: 'https://bots.example.com' }
  let { url, proc } = await startServerProcess(dir, env)
  const api = async (method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url + path, { method, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }
  expect((await api('POST', '/api/auth/register', { email: 'once@example.com', password: 'correct-horse-battery' })).status).toBe(201)
  const token = (await api('POST', '/api/auth/login', { email: 'once@example.com', password: 'correct-horse-battery' })).body.token
  const ws = (await api('POST', '/api/workspaces', { name: 'w' }, token)).body.workspace
  const config = { ...telegramKit.config, bot_token: '123456:once-token' }
  const bot = (await api('POST', '/api/bots', { name: 'Once', platform: 'telegram', workspace_id: ws.id, system_prompt: 'x', platform_config: config, llm_provider: 'openai', llm_model: 'gpt-4o-mini' }, token)).body.bot
  expect((await api('POST', `/api/bots/${bot.id}/activate`, undefined, token)).status).toBe(200)

  fake.delay('telegram', 'sendMessage', 30_000) // the platform takes the reply very slowly: the process dies meanwhile
  const calls = llm.requests.length
  llm.reply({ text: 'recorded answer', usage: { input: 10, output: 5 } })
  const update = telegramKit.request({ id: 888001, chat: '8880001', user: '8880001', text: 'are you there?' })
  expect((await api('POST', `/api/bots/webhook/telegram/${bot.id}`, update.raw, undefined, { 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET })).status).toBe(200)
  await fake.waitFor((c) => c.method === 'sendMessage' && String(c.body.chat_id) === '8880001')
  proc.kill(9)
  await proc.exited
  const mid = new Database(join(dir, 'agentbase.db'), { readonly: true })
  expect(counts(mid, bot.id)).toMatchObject({ user: 1, assistant: 1, sent: 1, runs: 1 })
  expect(mid.query('SELECT status, reply FROM channel_inbox').get()).toEqual({ status: 'processing', reply: JSON.stringify(['recorded answer']) })
  mid.close()

  fake.delay('telegram', 'sendMessage', 0)
  ;({ url, proc } = await startServerProcess(dir, env))
  await fake.waitFor((c) => c.method === 'sendMessage' && String(c.body.chat_id) === '8880001', 2)
  expect(llm.requests.length).toBe(calls + 1) // the agent ran once
  proc.kill('SIGTERM')
  await proc.exited
  const after = new Database(join(dir, 'agentbase.db'), { readonly: true })
  expect(counts(after, bot.id)).toMatchObject({ user: 1, assistant: 1, sent: 1, received: 1, runs: 1 })
  expect(after.query('SELECT status FROM channel_inbox').get()).toEqual({ status: 'done' })
  after.close()
}, 60_000)
