/**
 * Issue 11 item 12: duplicate platform replies after a crash. The real server sends a reply that Telegram needs
 * in three messages, over a slow Telegram API, and is SIGKILLed while the second is in flight. After restart the
 * first message (which Telegram confirmed) is not sent again; only the one in flight may be (at-least-once, as
 * README documents), and the third is sent once.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database } from 'bun:sqlite'
import { startFakePlatforms } from './fixtures/fake-platforms'
import { startFakeLlm } from './fixtures/fake-llm'
import { slackKit, telegramKit, TELEGRAM_SECRET } from './fixtures/channel-kit'
import { callServer, killAll, ownerWithActiveBot, startServerProcess } from './fixtures/server-process'

const fake = await startFakePlatforms()
const llm = await startFakeLlm()
const dir = mkdtempSync(join(tmpdir(), 'agentbase-resend-'))
const slackDir = mkdtempSync(join(tmpdir(), 'agentbase-resend-slack-'))
afterAll(() => {
  killAll()
  fake.close(); llm.close()
  rmSync(dir, { recursive: true, force: true })
  rmSync(slackDir, { recursive: true, force: true })
})

const startServer = (dataDir = dir) => startServerProcess(dataDir, {
  TELEGRAM_API_URL: fake.env.TELEGRAM_API_URL, SLACK_API_URL: fake.env.SLACK_API_URL, OPENAI_BASE_URL: llm.openaiBase, OPENAI_API_KEY: 'sk-test', AGENTBASE_PUBLIC_URL: 'https://bots.example.com',
})

const api = (url: string, method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}) =>
  callServer(url, method, path, body, { token, headers })

// Three paragraphs of 3000 characters: Telegram's 4096 limit makes them three messages.
const PARTS = ['A', 'B', 'C'].map((c) => `${c}${c.repeat(2998)}.`)
const CHAT = '5550077'
const sent = () => fake.callsOf('telegram', 'sendMessage').filter((c) => String(c.body.chat_id) === CHAT).map((c) => String(c.body.text)[0])

test('killed while the second of three messages is in flight: the first is not sent again after restart', async () => {
  let { url, proc } = await startServer()
  const { token, bot } = await ownerWithActiveBot(url, 'resend@example.com', { name: 'Chatty', platform: 'telegram', system_prompt: 'x', platform_config: telegramKit.config })

  llm.reply({ text: PARTS.join('\n') })
  fake.delay('telegram', 'sendMessage', 3000) // a slow Telegram: each message takes 3 s to be confirmed
  const update = telegramKit.request({ id: 777001, chat: CHAT, user: '6660077', text: 'tell me everything' })
  const ack = await api(url, 'POST', `/api/bots/webhook/telegram/${bot.id}`, update.raw, undefined, { 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET })
  expect(ack.status).toBe(200)
  // The second message reached Telegram (so the first was confirmed); kill before Telegram confirms it.
  await fake.waitFor((c) => c.method === 'sendMessage' && String(c.body.chat_id) === CHAT, 2, 20_000)
  proc.kill(9)
  await proc.exited
  expect(sent()).toEqual(['A', 'B'])

  fake.delay('telegram', 'sendMessage', 0)
  ;({ url, proc } = await startServer())
  const db = () => new Database(join(dir, 'agentbase.db'), { readonly: true })
  const deadline = Date.now() + 20_000
  for (;;) {
    const d = db()
    const row = d.query<{ status: string }, []>('SELECT status FROM channel_inbox').get()
    d.close()
    if (row?.status === 'done') break
    if (Date.now() > deadline) throw new Error(`inbox row not done: ${row?.status}`)
    await Bun.sleep(50)
  }
  // A once; B possibly twice (in flight at the kill: Telegram cannot be asked whether it arrived); C once.
  expect(sent()).toEqual(['A', 'B', 'B', 'C'])
  expect(llm.requests.length).toBe(1) // the stored reply was sent, the model not asked again
  proc.kill('SIGTERM')
  await proc.exited
  const d = db()
  // What Telegram returned for each confirmed message is on the row (message ids), and nothing is left in flight.
  const row = d.query<any, []>('SELECT sent_parts, sending_part, platform_ids FROM channel_inbox').get()
  d.close()
  expect({ sent: row.sent_parts, sending: row.sending_part }).toEqual({ sent: 3, sending: null })
  expect(JSON.parse(row.platform_ids)).toEqual([expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/)])
}, 90_000)

test('Slack, where it can be checked: the message in flight at the kill is found in the thread and not sent again', async () => {
  llm.reset()
  let { url, proc } = await startServer(slackDir)
  const { token, bot } = await ownerWithActiveBot(url, 'resend-slack@example.com', { name: 'Chatty Slack', platform: 'slack', system_prompt: 'x', platform_config: slackKit.config })

  const long = ['X', 'Y', 'Z'].map((c) => `${c}${c.repeat(3498)}.`) // 3500 characters each: three Slack messages
  llm.reply({ text: long.join('\n') })
  fake.delay('slack', 'chat.postMessage', 3000)
  const CH = 'D0RESEND'
  const slackSent = () => fake.callsOf('slack', 'chat.postMessage').filter((c) => c.body.channel === CH).map((c) => String(c.body.text)[0])
  const event = slackKit.request({ id: 91, chat: CH, user: 'U0PERSON', text: 'tell me everything' })
  expect((await api(url, 'POST', `/api/bots/webhook/slack/${bot.id}`, event.raw, undefined, event.headers)).status).toBe(200)
  await fake.waitFor((c) => c.method === 'chat.postMessage' && c.body.channel === CH, 2, 20_000)
  proc.kill(9)
  await proc.exited
  expect(slackSent()).toEqual(['X', 'Y'])

  fake.delay('slack', 'chat.postMessage', 0)
  ;({ url, proc } = await startServer(slackDir))
  const deadline = Date.now() + 20_000
  for (;;) {
    const d = new Database(join(slackDir, 'agentbase.db'), { readonly: true })
    const row = d.query<{ status: string }, []>('SELECT status FROM channel_inbox').get()
    d.close()
    if (row?.status === 'done') break
    if (Date.now() > deadline) throw new Error(`inbox row not done: ${row?.status}`)
    await Bun.sleep(50)
  }
  // Y reached Slack before the kill: the thread shows it, so it is recorded as sent instead of posted twice.
  expect(slackSent()).toEqual(['X', 'Y', 'Z'])
  expect(fake.callsOf('slack', 'conversations.replies').length).toBe(1)
  proc.kill('SIGTERM')
  await proc.exited
}, 90_000)
