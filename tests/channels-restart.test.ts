/**
 * Nothing acknowledged is lost: the real server (a child process) acknowledges a Telegram update while
 * the model hangs, is killed with SIGKILL, restarts on the same data dir, and answers it exactly once.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database } from 'bun:sqlite'
import { startFakePlatforms } from './fixtures/fake-platforms'
import { startFakeLlm } from './fixtures/fake-llm'
import { telegramKit, TELEGRAM_SECRET } from './fixtures/channel-kit'
import { callServer, killAll, ownerWithActiveBot, startServerProcess } from './fixtures/server-process'

const fake = await startFakePlatforms()
const llm = await startFakeLlm()
const dir = mkdtempSync(join(tmpdir(), 'agentbase-restart-'))
afterAll(() => {
  killAll()
  fake.close(); llm.close()
  rmSync(dir, { recursive: true, force: true })
})

const startServer = () => startServerProcess(dir, {
  TELEGRAM_API_URL: fake.env.TELEGRAM_API_URL, OPENAI_BASE_URL: llm.openaiBase, OPENAI_API_KEY: 'sk-test', AGENTBASE_PUBLIC_URL: 'https://bots.example.com',
})

const api = (url: string, method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}) =>
  callServer(url, method, path, body, { token, headers })

test('an acknowledged update survives SIGKILL and is answered exactly once after restart', async () => {
  let { url, proc } = await startServer()
  const { token, bot } = await ownerWithActiveBot(url, 'restart@example.com', { name: 'Durable', platform: 'telegram', system_prompt: 'Be brief.', platform_config: telegramKit.config })
  expect(fake.telegramWebhooks.get(String(telegramKit.config.bot_token))?.url).toBe(`https://bots.example.com/api/bots/webhook/telegram/${bot.id}`)

  // The model hangs: the update is acknowledged (committed) but not answered when the process dies.
  llm.reply({ hang: true })
  const update = telegramKit.request({ id: 424242, chat: '5550001', user: '6660001', text: 'are you still there?' })
  const deliver = () => api(url, 'POST', `/api/bots/webhook/telegram/${bot.id}`, update.raw, undefined, { 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET })
  const ack = await deliver()
  expect(ack.status).toBe(200)
  await llm.waitForRequests(1)
  proc.kill(9)
  await proc.exited
  expect(telegramKit.replies(fake, '5550001')).toEqual([])

  const db = new Database(join(dir, 'agentbase.db'), { readonly: true })
  expect(db.query('SELECT status, attempts FROM channel_inbox').all()).toEqual([{ status: 'processing', attempts: 1 }])
  db.close()

  llm.reply({ text: 'yes, I am back' }, { text: 'second answer' })
  ;({ url, proc } = await startServer())
  await fake.waitFor((c) => c.method === 'sendMessage' && String(c.body.chat_id) === '5550001')
  // Telegram retries the same update (it never saw our reply time out): acknowledged, not answered again.
  expect((await deliver()).status).toBe(200)
  const later = telegramKit.request({ id: 424243, chat: '5550001', user: '6660001', text: 'good' })
  expect((await api(url, 'POST', `/api/bots/webhook/telegram/${bot.id}`, later.raw, undefined, { 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET })).status).toBe(200)
  await fake.waitFor((c) => c.method === 'sendMessage' && String(c.body.chat_id) === '5550001', 2)
  expect(telegramKit.replies(fake, '5550001')).toEqual(['yes, I am back', 'second answer'])

  proc.kill('SIGTERM')
  await proc.exited
  const after = new Database(join(dir, 'agentbase.db'), { readonly: true })
  expect(after.query('SELECT status FROM channel_inbox ORDER BY id').all()).toEqual([{ status: 'done' }, { status: 'done' }])
  expect(after.query("SELECT count(*) AS n FROM bot_messages WHERE role = 'user'").get()).toEqual({ n: 2 })
  expect(after.query('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' })
  after.close()
}, 60_000)
