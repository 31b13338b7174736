/**
 * Every inbox platform (Telegram, Discord, WhatsApp, Slack) through the same scenarios, against the fake
 * platform APIs and the fake LLM: activate/pause effects, a verified message answered, a bad signature
 * refused with nothing stored, duplicates answered once, ordering within a chat, fallback, spending cap.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { channelsEnv } from './fixtures/channel-env'
import { kits, telegramKit, type Delivered, type PlatformKit } from './fixtures/channel-kit'

const env = await channelsEnv()
const { fake, llm, t, owner, ws } = env

afterAll(() => env.close())

let n = 0
const next = () => ++n
/** A fresh chat with its own ids, so scenarios never see each other's messages. */
const chat = () => String(700000 + next())
/** One person per chat (conversations are keyed by chat and user). */
const msg = (c: string, text: string): Delivered => ({ id: 10000 + next(), chat: c, user: String(Number(c) + 1_000_000), text })

async function createBot(kit: PlatformKit, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await t.req('POST', '/api/bots', {
    token: owner.token,
    body: { name: `${kit.platform} bot ${next()}`, platform: kit.platform, workspace_id: ws.id, system_prompt: 'Be brief.', platform_config: kit.config, llm_provider: 'openai', llm_model: 'gpt-4o-mini', ...extra },
  })
  expect(r.status).toBe(201)
  return r.body.bot.id
}

async function activeBot(kit: PlatformKit, extra: Record<string, unknown> = {}) {
  const id = await createBot(kit, extra)
  const a = await t.req('POST', `/api/bots/${id}/activate`, { token: owner.token })
  expect(a.status).toBe(200)
  return id
}

const deliver = (kit: PlatformKit, botId: string, m: Delivered, opts: { bad?: boolean; retry?: boolean } = {}) => {
  const { raw, headers } = kit.request(m, opts)
  return t.req('POST', `/api/bots/webhook/${kit.platform}/${botId}`, { raw, headers })
}

const inboxRows = (botId: string) => t.k.db.query<{ n: number }, [string]>('SELECT count(*) AS n FROM channel_inbox WHERE bot_id = ?').get(botId)!.n
const botMessages = (botId: string) => t.k.db.query<{ role: string; kind: string; content: string; error: string | null; stop_reason: string | null }, [string]>(
  'SELECT role, kind, content, error, stop_reason FROM bot_messages WHERE bot_id = ? ORDER BY created_at, seq').all(botId)
async function waitReplies(kit: PlatformKit, c: string, count: number) {
  const until = Date.now() + 15_000
  while (kit.replies(fake, c).length < count) {
    if (Date.now() > until) throw new Error(`${kit.platform}: expected ${count} replies in chat ${c}, got ${JSON.stringify(kit.replies(fake, c))}`)
    await Bun.sleep(10)
  }
  return kit.replies(fake, c)
}

const manual: Record<string, boolean> = { telegram: false, discord: false, whatsapp: true, slack: true }

describe.each(kits.map((k) => [k.platform, k] as const))('%s', (platform, kit) => {
  test('activate registers with the platform API; pause unregisters and deliveries get 404', async () => {
    const id = await createBot(kit)
    const before = fake.calls.length
    const a = await t.req('POST', `/api/bots/${id}/activate`, { token: owner.token })
    expect(a.status).toBe(200)
    expect(a.body.status).toBe('active')
    expect(a.body.webhook_url).toBe(`http://localhost/api/bots/webhook/${platform}/${id}`)
    expect(a.body.manual_setup_required).toBe(manual[platform])
    const made = fake.calls.slice(before)
    expect(made.some((c) => c.method === kit.activateMethod)).toBe(true)
    if (platform === 'telegram') {
      expect(fake.telegramWebhooks.get(String(kit.config.bot_token))).toEqual({ url: a.body.webhook_url, secret_token: String(kit.config.secret_token) })
    }
    if (platform === 'discord') expect(fake.discordEndpoints.get(String(kit.config.bot_token))).toBe(a.body.webhook_url)

    const mid = fake.calls.length
    const p = await t.req('POST', `/api/bots/${id}/pause`, { token: owner.token })
    expect(p.status).toBe(200)
    expect(p.body.status).toBe('paused')
    const paused = fake.calls.slice(mid)
    if (kit.pauseMethod) expect(paused.some((c) => c.method === kit.pauseMethod)).toBe(true)
    else expect(paused).toEqual([])
    if (platform === 'telegram') expect(fake.telegramWebhooks.has(String(kit.config.bot_token))).toBe(false)
    if (platform === 'discord') expect(fake.discordEndpoints.get(String(kit.config.bot_token))).toBeNull()

    const r = await deliver(kit, id, msg(chat(), 'hello?'))
    expect(r.status).toBe(404)
    expect(inboxRows(id)).toBe(0)
  })

  test('a verified message is acknowledged, then answered through the platform API', async () => {
    const id = await activeBot(kit)
    const c = chat()
    llm.reply({ text: `Hello from the ${platform} bot` })
    const r = await deliver(kit, id, msg(c, 'Hi there'))
    expect(r.status).toBe(200)
    expect(r.body).toEqual(kit.ack)
    expect(await waitReplies(kit, c, 1)).toEqual([`Hello from the ${platform} bot`])
    const sent = llm.requests.at(-1)!.body.messages
    expect(sent.at(-1)).toMatchObject({ role: 'user', content: 'Hi there' })
    const read = () => t.k.db.query<{ status: string; conversation_id: string; replied_at: string | null }, [string]>('SELECT status, conversation_id, replied_at FROM channel_inbox WHERE bot_id = ?').get(id)!
    for (let i = 0; i < 500 && read().status !== 'done'; i++) await Bun.sleep(10) // the reply is sent, then recorded
    const row = read()
    expect(row.status).toBe('done')
    expect(row.replied_at).not.toBeNull()
    expect(row.conversation_id).toStartWith('bconv_')
    expect(botMessages(id).map((m) => [m.role, m.content])).toEqual([['user', 'Hi there'], ['assistant', `Hello from the ${platform} bot`]])
  })

  test('a bad signature is refused with 401 and nothing is stored', async () => {
    const id = await activeBot(kit)
    const llmBefore = llm.requests.length
    const r = await deliver(kit, id, msg(chat(), 'let me in'), { bad: true })
    expect(r.status).toBe(401)
    expect(r.body.code).toBe('invalid_signature')
    const unsigned = await t.req('POST', `/api/bots/webhook/${platform}/${id}`, { body: JSON.parse(kit.request(msg(chat(), 'x')).raw) })
    expect(unsigned.status).toBe(401)
    expect(inboxRows(id)).toBe(0)
    expect(botMessages(id)).toEqual([])
    expect(llm.requests.length).toBe(llmBefore)
  })

  test('a replayed delivery is acknowledged again but answered once', async () => {
    const id = await activeBot(kit)
    const c = chat()
    const first = msg(c, 'once please')
    llm.reply({ text: 'answer one' }, { text: 'answer two' })
    expect((await deliver(kit, id, first)).status).toBe(200)
    const again = await deliver(kit, id, first, { retry: true })
    expect(again.status).toBe(200)
    expect(again.body).toEqual(kit.ack)
    // A later message in the same chat is answered after anything queued before it: if the replay had
    // been queued, its answer would come first.
    expect((await deliver(kit, id, msg(c, 'and another'))).status).toBe(200)
    expect(await waitReplies(kit, c, 2)).toEqual(['answer one', 'answer two'])
    expect(inboxRows(id)).toBe(2)
    expect(botMessages(id).filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['once please', 'and another'])
  })

  test('two quick messages in one chat are answered one at a time, in order', async () => {
    const id = await activeBot(kit)
    const c = chat()
    llm.reply({ text: 'slow first answer', delayMs: 400 }, { text: 'second answer' })
    const [a, b] = [msg(c, 'first question'), msg(c, 'second question')]
    expect((await deliver(kit, id, a)).status).toBe(200)
    expect((await deliver(kit, id, b)).status).toBe(200)
    expect(await waitReplies(kit, c, 2)).toEqual(['slow first answer', 'second answer'])
    // The second run started after the first was recorded: its history holds the first exchange.
    const second = llm.requests.at(-1)!.body.messages.map((m: any) => m.content)
    expect(second).toContain('first question')
    expect(second).toContain('slow first answer')
    expect(second.at(-1)).toBe('second question')
  })

  test('an LLM failure answers the fallback message and records the failure', async () => {
    const id = await activeBot(kit, { fallback_message: 'Sorry, try again later.' })
    const c = chat()
    llm.reply({ status: 401, error: 'invalid api key' })
    expect((await deliver(kit, id, msg(c, 'will this work?'))).status).toBe(200)
    expect(await waitReplies(kit, c, 1)).toEqual(['Sorry, try again later.'])
    const answer = botMessages(id).find((m) => m.role === 'assistant')!
    expect(answer.kind).toBe('fallback')
    expect(answer.error).toBeTruthy()
  })

  test('the spending cap stops model calls once reached', async () => {
    const id = await activeBot(kit, { spending_cap_cents: 0.01, fallback_message: 'Budget used up.' })
    const c = chat()
    llm.reply({ text: 'a paid answer', usage: { input: 20000, output: 20000 } })
    expect((await deliver(kit, id, msg(c, 'first'))).status).toBe(200)
    expect(await waitReplies(kit, c, 1)).toEqual(['a paid answer'])
    const llmBefore = llm.requests.length
    expect((await deliver(kit, id, msg(c, 'second'))).status).toBe(200)
    expect(await waitReplies(kit, c, 2)).toEqual(['a paid answer', 'Budget used up.'])
    expect(llm.requests.length).toBe(llmBefore)
    expect(botMessages(id).at(-1)).toMatchObject({ kind: 'fallback', stop_reason: 'spending_cap' })
  })
})

test('different chats are answered concurrently (a slow chat does not hold up another)', async () => {
  const kit = telegramKit
  const id = await activeBot(kit)
  const [slow, quick] = [chat(), chat()]
  llm.reply({ text: 'slow answer', delayMs: 1500 }, { text: 'quick answer' })
  const seen = llm.requests.length
  expect((await deliver(kit, id, msg(slow, 'slow one'))).status).toBe(200)
  await llm.waitForRequests(seen + 1) // the slow run is in flight
  expect((await deliver(kit, id, msg(quick, 'quick one'))).status).toBe(200)
  expect(await waitReplies(kit, quick, 1)).toEqual(['quick answer'])
  expect(kit.replies(fake, slow)).toEqual([])
  expect(await waitReplies(kit, slow, 1)).toEqual(['slow answer'])
})
