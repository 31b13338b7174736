/**
 * What is particular to each platform: Telegram registration warnings, splitting, typing, /start and
 * retries; Discord PING and manual setup; WhatsApp's handshake, status updates and batches; Slack's
 * url_verification, replay window, own messages and threads; platform_config validation.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { channelsEnv } from './fixtures/channel-env'
import { untilValue } from './helpers'
import {
  discordKit, ed25519Sign, metaSign, slackKit, slackSign, SLACK_SECRET, telegramKit, TELEGRAM_SECRET, whatsappKit, whatsappPayload,
  WHATSAPP_SECRET, type Delivered, type PlatformKit,
} from './fixtures/channel-kit'
import { splitText } from '../plugins/channels/types'

const env = await channelsEnv()
const { fake, llm, t, owner, ws } = env
afterAll(() => env.close())

let n = 0
const next = () => ++n
const chat = () => String(800000 + next())
const msg = (c: string, text: string): Delivered => ({ id: 20000 + next(), chat: c, user: String(Number(c) + 1_000_000), text })

async function createBot(platform: string, platform_config: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return t.req('POST', '/api/bots', {
    token: owner.token,
    body: { name: `${platform} ${next()}`, platform, workspace_id: ws.id, system_prompt: 'Be brief.', platform_config, llm_provider: 'openai', llm_model: 'gpt-4o-mini', ...extra },
  })
}
async function activeBot(kit: PlatformKit, extra: Record<string, unknown> = {}, config = kit.config) {
  const r = await createBot(kit.platform, config, extra)
  expect(r.status).toBe(201)
  const a = await t.req('POST', `/api/bots/${r.body.bot.id}/activate`, { token: owner.token })
  expect(a.status).toBe(200)
  return r.body.bot.id as string
}
const post = (platform: string, botId: string, raw: string, headers: Record<string, string>) =>
  t.req('POST', `/api/bots/webhook/${platform}/${botId}`, { raw, headers })
const deliver = (kit: PlatformKit, botId: string, m: Delivered) => { const s = kit.request(m); return post(kit.platform, botId, s.raw, s.headers) }
const inbox = (botId: string) => t.k.db.query<{ status: string; error: string | null; dedupe_key: string }, [string]>('SELECT status, error, dedupe_key FROM channel_inbox WHERE bot_id = ? ORDER BY id').all(botId)
const until = <T>(read: () => T, ok: (v: T) => boolean, what: string) => untilValue(read, ok, what)
const replies = (kit: PlatformKit, c: string, count: number) => until(() => kit.replies(fake, c), (r) => r.length >= count, `${count} ${kit.platform} replies`)

describe('platform_config validation (400 naming what is missing)', () => {
  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ['telegram', {}, ['platform_config.bot_token']],
    ['telegram', { bot_token: '123:abc', secret_token: 'has spaces' }, ['platform_config.secret_token']],
    ['discord', { application_id: '123456789' }, ['platform_config.public_key']],
    ['discord', { application_id: '123456789', public_key: 'zz' }, ['platform_config.public_key']],
    ['whatsapp', { access_token: 'x' }, ['platform_config.phone_number_id', 'platform_config.app_secret', 'platform_config.verify_token']],
    ['slack', { bot_token: 'xoxb-1' }, ['platform_config.signing_secret']],
  ]
  test.each(cases)('%s %j', async (platform, cfg, missing) => {
    const r = await createBot(platform, cfg)
    expect(r.status).toBe(400)
    for (const f of missing) {
      expect(r.body.error).toContain(f)
      expect(Object.keys(r.body.details ?? {})).toContain(f)
    }
  })
})

describe('telegram', () => {
  test('activation warns when another webhook URL owned the bot, then takes it over', async () => {
    const token = '222333:OTHER-owner'
    fake.telegramWebhooks.set(token, { url: 'https://elsewhere.example/hook' })
    const r = await createBot('telegram', { bot_token: token })
    const a = await t.req('POST', `/api/bots/${r.body.bot.id}/activate`, { token: owner.token })
    expect(a.status).toBe(200)
    expect(a.body.warnings.join(' ')).toContain('https://elsewhere.example/hook')
    expect(fake.telegramWebhooks.get(token)!.url).toBe(a.body.webhook_url)
    // No secret_token given: one was generated and registered, and deliveries must carry it.
    const secret = fake.telegramWebhooks.get(token)!.secret_token!
    expect(secret).toMatch(/^[A-Za-z0-9_-]{16,256}$/)
    const c = chat()
    llm.reply({ text: 'generated secret works' })
    const { raw } = telegramKit.request(msg(c, 'hi'))
    expect((await post('telegram', r.body.bot.id, raw, { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET })).status).toBe(401)
    expect((await post('telegram', r.body.bot.id, raw, { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret })).status).toBe(200)
    expect(await replies(telegramKit, c, 1)).toEqual(['generated secret works'])
  })

  test('a refused bot token fails activation with 502 and the bot stays a draft', async () => {
    const token = '999:REFUSED'
    fake.invalidTokens.add(token)
    const r = await createBot('telegram', { bot_token: token })
    const a = await t.req('POST', `/api/bots/${r.body.bot.id}/activate`, { token: owner.token })
    expect(a.status).toBe(502)
    expect(a.body.error).toContain('Telegram')
    expect((await t.req('GET', `/api/bots/${r.body.bot.id}`, { token: owner.token })).body.bot.status).toBe('draft')
  })

  test('answers above 4096 characters are split; typing is shown first', async () => {
    const id = await activeBot(telegramKit)
    const c = chat()
    const long = Array.from({ length: 120 }, (_, i) => `Line ${i}: ${'lorem ipsum '.repeat(5).trim()}`).join('\n')
    expect(long.length).toBeGreaterThan(4096)
    llm.reply({ text: long })
    await deliver(telegramKit, id, msg(c, 'tell me everything'))
    await until(() => inbox(id), (rows) => rows[0]?.status === 'done', 'inbox done')
    const parts = telegramKit.replies(fake, c)
    expect(parts.length).toBe(3)
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(4096)
    expect(parts.join('\n')).toBe(long)
    const calls = fake.calls.filter((x) => x.platform === 'telegram' && String(x.body?.chat_id) === c)
    expect(calls[0].method).toBe('sendChatAction')
    expect(calls[0].body.action).toBe('typing')
  })

  test('/start gets the welcome message first; the command reaches the engine', async () => {
    const id = await activeBot(telegramKit, { welcome_message: 'Welcome aboard!' })
    const c = chat()
    llm.reply({ text: 'How can I help?' })
    await deliver(telegramKit, id, msg(c, '/start'))
    expect(await replies(telegramKit, c, 2)).toEqual(['Welcome aboard!', 'How can I help?'])
    expect(llm.requests.at(-1)!.body.messages.at(-1).content).toBe('/start')
  })

  test('non-text updates are acknowledged and ignored; malformed updates are 400; nothing stored', async () => {
    const id = await activeBot(telegramKit)
    const headers = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET }
    const sticker = JSON.stringify({ update_id: 5, message: { message_id: 1, chat: { id: 1, type: 'private' }, from: { id: 1 }, sticker: { file_id: 'x' } } })
    expect((await post('telegram', id, sticker, headers)).body).toEqual({ ok: true })
    expect((await post('telegram', id, JSON.stringify({ hello: 1 }), headers)).status).toBe(400)
    expect(inbox(id)).toEqual([])
  })

  test('a reply failing with 500 is retried and sent once; a 400 is not retried and is recorded', async () => {
    const id = await activeBot(telegramKit)
    const c1 = chat(), c2 = chat()
    fake.fail({ platform: 'telegram', method: 'sendMessage', status: 500, body: { ok: false, error_code: 500, description: 'Internal Server Error' } })
    llm.reply({ text: 'eventually delivered' })
    await deliver(telegramKit, id, msg(c1, 'one'))
    expect(await replies(telegramKit, c1, 2)).toEqual(['eventually delivered', 'eventually delivered'])
    await until(() => inbox(id), (rows) => rows[0]?.status === 'done', 'inbox done')

    fake.fail({ platform: 'telegram', method: 'sendMessage', status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: chat not found' } })
    llm.reply({ text: 'never arrives' })
    await deliver(telegramKit, id, msg(c2, 'two'))
    const rows = await until(() => inbox(id), (r) => r[1]?.status === 'failed', 'inbox failed')
    expect(rows[1].error).toContain('chat not found')
    expect(telegramKit.replies(fake, c2)).toEqual(['never arrives']) // the one refused attempt
  })
})

describe('discord', () => {
  test('PING is answered with PONG when signed, 401 otherwise; nothing stored', async () => {
    const id = await activeBot(discordKit)
    const raw = JSON.stringify({ id: '1', application_id: '111222333444555666', type: 1, token: 'x', version: 1 })
    const ts = String(Math.floor(Date.now() / 1000))
    const ok = await post('discord', id, raw, { 'content-type': 'application/json', 'x-signature-timestamp': ts, 'x-signature-ed25519': ed25519Sign(ts + raw) })
    expect(ok.status).toBe(200)
    expect(ok.body).toEqual({ type: 1 })
    const wrongTs = await post('discord', id, raw, { 'content-type': 'application/json', 'x-signature-timestamp': String(Number(ts) + 1), 'x-signature-ed25519': ed25519Sign(ts + raw) })
    expect(wrongTs.status).toBe(401)
    expect((await post('discord', id, raw, { 'content-type': 'application/json' })).status).toBe(401)
    expect(inbox(id)).toEqual([])
  })

  test('without a bot token, activation asks for manual setup and calls nothing', async () => {
    const r = await createBot('discord', { application_id: '111222333444555666', public_key: String(discordKit.config.public_key) })
    const before = fake.calls.length
    const a = await t.req('POST', `/api/bots/${r.body.bot.id}/activate`, { token: owner.token })
    expect(a.status).toBe(200)
    expect(a.body.manual_setup_required).toBe(true)
    expect(a.body.warnings.join(' ')).toContain('Interactions Endpoint URL')
    expect(fake.calls.length).toBe(before)
  })

  test('answers above 2000 characters become several follow-ups', async () => {
    const id = await activeBot(discordKit)
    const c = chat()
    const long = 'word '.repeat(900).trim()
    llm.reply({ text: long })
    await deliver(discordKit, id, msg(c, 'long please'))
    const parts = await replies(discordKit, c, 3)
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(2000)
    expect(parts.join(' ')).toBe(long)
  })
})

describe('whatsapp', () => {
  test('GET verification handshake: challenge on a match, 403 otherwise, 404 for unknown bots', async () => {
    const id = await activeBot(whatsappKit)
    const q = (mode: string, token: string) => `/api/bots/webhook/whatsapp/${id}?hub.mode=${mode}&hub.verify_token=${encodeURIComponent(token)}&hub.challenge=1158201444`
    const ok = await t.req('GET', q('subscribe', 'verify-me'))
    expect(ok.status).toBe(200)
    expect(ok.text).toBe('1158201444')
    expect((await t.req('GET', q('subscribe', 'verify-you'))).status).toBe(403)
    expect((await t.req('GET', q('unsubscribe', 'verify-me'))).status).toBe(403)
    expect((await t.req('GET', '/api/bots/webhook/whatsapp/bt_missing?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1')).status).toBe(404)
  })

  test('the published known answer verifies over the raw body (then 400: not a payload); a wrong one is 401', async () => {
    const id = await activeBot(whatsappKit)
    const known = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'
    expect(metaSign(WHATSAPP_SECRET, 'Hello, World!')).toBe(known)
    const ok = await post('whatsapp', id, 'Hello, World!', { 'content-type': 'text/plain', 'x-hub-signature-256': known })
    expect(ok.status).toBe(400)
    const bad = await post('whatsapp', id, 'Hello, World?', { 'content-type': 'text/plain', 'x-hub-signature-256': known })
    expect(bad.status).toBe(401)
  })

  test('status updates are ignored; a batch of two messages is answered in order; typing marks them read', async () => {
    const id = await activeBot(whatsappKit)
    const statuses = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: '106540352242922' }, statuses: [{ id: 'wamid.S', status: 'delivered', recipient_id: '1555' }] } }] }] })
    expect((await post('whatsapp', id, statuses, { 'content-type': 'application/json', 'x-hub-signature-256': metaSign(WHATSAPP_SECRET, statuses) })).status).toBe(200)
    expect(inbox(id)).toEqual([])

    const c = chat()
    const body = whatsappPayload(msg(c, 'first'))
    const second = whatsappPayload(msg(c, 'second')).entry[0].changes[0].value.messages[0]
    body.entry[0].changes[0].value.messages.push(second)
    const raw = JSON.stringify(body)
    llm.reply({ text: 'to first' }, { text: 'to second' })
    expect((await post('whatsapp', id, raw, { 'content-type': 'application/json', 'x-hub-signature-256': metaSign(WHATSAPP_SECRET, raw) })).status).toBe(200)
    expect(await replies(whatsappKit, c, 2)).toEqual(['to first', 'to second'])
    expect(inbox(id).length).toBe(2)
    const read = fake.callsOf('whatsapp', 'markRead').filter((x) => x.body.message_id === body.entry[0].changes[0].value.messages[0].id)
    expect(read[0].body.typing_indicator).toEqual({ type: 'text' })
  })
})

describe('slack', () => {
  const signed = (raw: string, tsSec = Math.floor(Date.now() / 1000)) => ({ 'content-type': 'application/json', 'x-slack-request-timestamp': String(tsSec), 'x-slack-signature': slackSign(SLACK_SECRET, String(tsSec), raw) })

  test('url_verification is answered only when signed', async () => {
    const id = await activeBot(slackKit)
    const raw = JSON.stringify({ token: 'x', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' })
    const ok = await post('slack', id, raw, signed(raw))
    expect(ok.status).toBe(200)
    expect(ok.body).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' })
    expect((await post('slack', id, raw, { 'content-type': 'application/json' })).status).toBe(401)
  })

  test('timestamps outside the 5-minute window are refused even with a valid signature', async () => {
    const id = await activeBot(slackKit)
    const raw = JSON.stringify({ type: 'url_verification', challenge: 'c' })
    const now = Math.floor(Date.now() / 1000)
    expect((await post('slack', id, raw, signed(raw, now - 301))).status).toBe(401)
    expect((await post('slack', id, raw, signed(raw, now + 301))).status).toBe(401)
    expect((await post('slack', id, raw, signed(raw, now - 290))).status).toBe(200)
  })

  test("the bot's own messages and edits are ignored; answers go to the message's thread", async () => {
    const id = await activeBot(slackKit)
    const c = `C${next()}`
    const own = JSON.stringify({ type: 'event_callback', event_id: 'EvOwn', event: { type: 'message', subtype: 'bot_message', bot_id: 'B0FAKEBOT', channel: c, text: 'my own reply', ts: '1.1' } })
    const own2 = JSON.stringify({ type: 'event_callback', event_id: 'EvOwn2', event: { type: 'message', bot_id: 'B0FAKEBOT', user: 'U0FAKEBOT', channel: c, text: 'also mine', ts: '1.2' } })
    const edit = JSON.stringify({ type: 'event_callback', event_id: 'EvEdit', event: { type: 'message', subtype: 'message_changed', channel: c, ts: '1.3', message: { text: 'edited' } } })
    for (const raw of [own, own2, edit]) expect((await post('slack', id, raw, signed(raw))).status).toBe(200)
    expect(inbox(id)).toEqual([])

    llm.reply({ text: 'in the thread' }, { text: 'still in the thread' })
    const root = JSON.stringify({ type: 'event_callback', event_id: 'EvRoot', event: { type: 'app_mention', channel: c, user: 'U1', text: '<@U0FAKEBOT> help', ts: '1710000000.000100' } })
    expect((await post('slack', id, root, signed(root))).status).toBe(200)
    const inThread = JSON.stringify({ type: 'event_callback', event_id: 'EvReply', event: { type: 'message', channel: c, user: 'U1', text: 'more', ts: '1710000001.000200', thread_ts: '1710000000.000100' } })
    expect((await post('slack', id, inThread, signed(inThread))).status).toBe(200)
    await replies(slackKit, c, 2)
    // The bot's own mention is stripped from an app_mention; the thread is one conversation.
    expect(llm.requests.at(-1)!.body.messages.map((m: any) => m.content)).toEqual(['Be brief.', 'help', 'in the thread', 'more'])
    expect(fake.callsOf('slack', 'chat.postMessage').filter((x) => x.body.channel === c).map((x) => x.body.thread_ts)).toEqual(['1710000000.000100', '1710000000.000100'])
  })
})

test('splitText never exceeds the limit and loses no words', () => {
  const text = 'a'.repeat(5000) + ' ' + 'b c '.repeat(3000)
  const parts = splitText(text, 4096)
  for (const p of parts) expect(Array.from(p).length).toBeLessThanOrEqual(4096)
  expect(parts.join('').replace(/\s+/g, '')).toBe(text.replace(/\s+/g, ''))
  expect(splitText('short', 10)).toEqual(['short'])
  const emoji = '😀'.repeat(5000)
  for (const p of splitText(emoji, 4096)) expect(Array.from(p).every((ch) => ch === '😀')).toBe(true)
})
