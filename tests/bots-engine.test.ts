/**
 * The bot engine and the test endpoint: answers through the fake LLM, conversations (TTL rollover with a
 * ManualClock, history bound, welcome), fallback on failure and timeout, billing modes, spending cap, quota.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ManualClock } from '../src/clock'
import { botsEnv, createBot, activate, relogin, userWithWorkspace, type BotsEnv, type Who } from './bots-kit'
import { handleIncoming, DEFAULT_FALLBACK } from '../plugins/bots/engine'

const clock = new ManualClock(Date.parse('2026-03-14T10:00:00Z'))
let env: BotsEnv, admin: Who, alice: Who, bob: Who

beforeAll(async () => {
  env = await botsEnv({ clock, env: { AGENTBASE_BILLING: 'on' } })
  admin = await userWithWorkspace(env.t) // first user: admin
  alice = await userWithWorkspace(env.t)
  bob = await userWithWorkspace(env.t)
  await credit(alice, 10_000)
  await credit(bob, 10_000)
})
afterAll(() => env.close())

const req = (...a: Parameters<BotsEnv['t']['req']>) => env.t.req(...a)
async function credit(who: Who, cents: number) {
  const r = await req('POST', '/api/wallet/credit', { token: admin.token, body: { user_id: who.id, amount_cents: cents } })
  expect(r.status).toBe(200)
}
const balance = async (who: Who) => (await req('GET', '/api/wallet', { token: who.token })).body.balance_cents as number
const messages = (convId: string) => env.t.k.db.query<any, [string]>('SELECT * FROM bot_messages WHERE conversation_id = ? ORDER BY seq').all(convId)
const conv = (id: string) => env.t.k.db.query<any, [string]>('SELECT * FROM bot_conversations WHERE id = ?').get(id)
const eventsOf = (type: string, botId: string) => env.t.k.db.query<{ data: string }, [string]>('SELECT data FROM events WHERE type = ? ORDER BY seq').all(type)
  .map((e) => JSON.parse(e.data)).filter((d) => d.bot_id === botId)

describe('POST /api/bots/:id/test', () => {
  test('answers with response, tool calls, tokens, breakdown, cost, latency, loop iterations; creates a real conversation', async () => {
    const id = await createBot(env.t, alice)
    env.llm.reply(
      { toolCalls: [{ name: 'current_time', arguments: { timezone: 'UTC' } }], usage: { input: 1000, output: 100 } },
      { text: 'It is 10:00 UTC.', usage: { input: 1200, output: 50 } },
    )
    const before = await balance(alice)
    const r = await req('POST', `/api/bots/${id}/test`, { token: alice.token, body: { message: 'What time is it?' } })
    expect(r.status).toBe(200)
    const convId: string = r.body.conversation_id // (read before toMatchObject, which rewrites matched fields)
    expect(convId).toMatch(/^bconv_/)
    expect(r.body).toMatchObject({
      response: 'It is 10:00 UTC.',
      tool_calls: [{ tool: 'current_time', success: true }],
      tokens: { input: 2200, output: 150 },
      token_breakdown: { systemPrompt: expect.any(Number), total: 2350 },
      loop_iterations: 1,
      conversation_id: expect.stringMatching(/^bconv_/),
    })
    // gpt-4o-mini: $0.15 / $0.60 per million tokens -> 2200*15 + 150*60 micro-cents.
    expect(r.body.cost_cents).toBeCloseTo((2200 * 15 + 150 * 60) / 1e6, 9)
    expect(r.body.latency_ms).toBeGreaterThanOrEqual(0)
    expect(await balance(alice)).toBeCloseTo(before - r.body.cost_cents, 6)
    const c = conv(convId)
    expect(c).toMatchObject({ bot_id: id, source: 'test', platform_user_id: alice.id, message_count: 2, tokens_input: 2200, tokens_output: 150 })
    const msgs = messages(c.id)
    expect(msgs.map((m) => [m.role, m.content])).toEqual([['user', 'What time is it?'], ['assistant', 'It is 10:00 UTC.']])
    expect(JSON.parse(msgs[1].tool_calls)).toEqual([expect.objectContaining({ tool: 'current_time', success: true })])
    // The system prompt and the tools reached the model.
    const sent = env.llm.requests.at(-1)!.body
    expect(sent.messages[0]).toEqual({ role: 'system', content: 'You are helpful.' })
    expect(sent.model).toBe('gpt-4o-mini')
    // A second test message continues the same conversation.
    env.llm.reply({ text: 'Anything else?' })
    const r2 = await req('POST', `/api/bots/${id}/test`, { token: alice.token, body: { message: 'Thanks' } })
    expect(r2.body.conversation_id).toBe(convId)
    expect(r2.body.loop_iterations).toBe(0)
    expect(r2.body.tool_calls).toEqual([])
  })

  test('message limits: empty 400, 16000 ok, 16001 400', async () => {
    const id = await createBot(env.t, bob)
    expect((await req('POST', `/api/bots/${id}/test`, { token: bob.token, body: { message: '' } })).status).toBe(400)
    expect((await req('POST', `/api/bots/${id}/test`, { token: bob.token, body: {} })).status).toBe(400)
    const long = await req('POST', `/api/bots/${id}/test`, { token: bob.token, body: { message: 'x'.repeat(16001) } })
    expect(long.status).toBe(400)
    expect(long.body.error).toMatch(/message/i)
    env.llm.reply({ text: 'ok' })
    expect((await req('POST', `/api/bots/${id}/test`, { token: bob.token, body: { message: 'x'.repeat(16000) } })).status).toBe(200)
  })

  test('rate limit: 10 per 60 s per user, the 11th answers 429 with Retry-After', async () => {
    const carol = await userWithWorkspace(env.t)
    await credit(carol, 100)
    const id = await createBot(env.t, carol)
    for (let i = 0; i < 10; i++) {
      const r = await req('POST', `/api/bots/${id}/test`, { token: carol.token, body: { message: `m${i}` } })
      expect(r.status).toBe(200)
      expect(r.headers.get('x-ratelimit-limit')).toBe('10')
    }
    const n = env.llm.requests.length
    const r = await req('POST', `/api/bots/${id}/test`, { token: carol.token, body: { message: 'one too many' } })
    expect(r.status).toBe(429)
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(env.llm.requests.length).toBe(n)
    // Per user: another user is not limited by carol's bucket.
    const other = await createBot(env.t, bob)
    expect((await req('POST', `/api/bots/${other}/test`, { token: bob.token, body: { message: 'hi' } })).status).toBe(200)
    // A minute later the bucket has refilled.
    clock.advance(60_000)
    expect((await req('POST', `/api/bots/${id}/test`, { token: carol.token, body: { message: 'again' } })).status).toBe(200)
  })

  test('a failing model: the test endpoint says why (502) and the fallback is recorded', async () => {
    const id = await createBot(env.t, alice, { fallback_message: 'We are on it.' })
    env.llm.reply({ status: 400, error: 'model exploded' })
    const r = await req('POST', `/api/bots/${id}/test`, { token: alice.token, body: { message: 'hi' } })
    expect(r.status).toBe(502)
    expect(r.body.error).toMatch(/fallback/)
    const c = env.t.k.db.query<any, [string]>('SELECT * FROM bot_conversations WHERE bot_id = ?').get(id)
    const msgs = messages(c.id)
    expect(msgs[1]).toMatchObject({ role: 'assistant', kind: 'fallback', content: 'We are on it.' })
    expect(msgs[1].error).toBeTruthy()
  })
})

describe('conversations from platforms', () => {
  test('welcome on a user\'s first interaction only; TTL rollover starts a new conversation', async () => {
    const id = await createBot(env.t, alice, { welcome_message: 'Welcome to Acme!', conversation_ttl_hours: 2 })
    await activate(env.t, alice, id)
    env.llm.reply({ text: 'A1' }, { text: 'A2' }, { text: 'A3' }, { text: 'A4' }, { text: 'A5' })
    const first = await handleIncoming(env.t.k, id, { chatId: 'chat1', userId: 'u1', userName: 'Jane', text: 'hello', platformMessageId: 'pm1' })
    expect(first.replies).toEqual(['Welcome to Acme!', 'A1'])
    expect(first.failed).toBe(false)
    clock.advance(2 * 3600_000 - 1000) // just inside the TTL
    const second = await handleIncoming(env.t.k, id, { chatId: 'chat1', userId: 'u1', text: 'again' })
    expect(second.replies).toEqual(['A2'])
    expect(second.conversationId).toBe(first.conversationId)
    clock.advance(2 * 3600_000) // silence longer than the TTL
    const third = await handleIncoming(env.t.k, id, { chatId: 'chat1', userId: 'u1', text: 'back' })
    expect(third.replies).toEqual(['A3']) // not a first interaction: no welcome
    expect(third.conversationId).not.toBe(first.conversationId)
    expect(conv(first.conversationId).status).toBe('expired')
    expect(conv(third.conversationId).status).toBe('active')
    // The new conversation starts without the old history.
    expect(env.llm.requests.at(-1)!.body.messages.filter((m: any) => m.role !== 'system')).toEqual([{ role: 'user', content: 'back' }])
    // Same user in another chat: a new conversation, no welcome; a new user: welcome.
    const other = await handleIncoming(env.t.k, id, { chatId: 'chat2', userId: 'u1', text: 'hi from a group' })
    expect(other.replies).toEqual(['A4'])
    const newcomer = await handleIncoming(env.t.k, id, { chatId: 'chat1', userId: 'u2', text: 'hi' })
    expect(newcomer.replies).toEqual(['Welcome to Acme!', 'A5'])
    expect(eventsOf('bot.conversation.started', id).map((e) => e.previous_conversation_id)).toEqual([null, first.conversationId, null, null])
    const c1 = conv(first.conversationId)
    expect(c1).toMatchObject({ message_count: 5, platform_user_name: 'Jane', platform_chat_id: 'chat1' })
    expect(messages(first.conversationId).map((m) => m.kind)).toEqual(['message', 'welcome', 'message', 'message', 'message'])
    expect(messages(first.conversationId)[0].platform_message_id).toBe('pm1')
    expect(eventsOf('bot.message.received', id)).toHaveLength(5)
    expect(eventsOf('bot.message.sent', id).map((e) => e.text)).toEqual(['A1', 'A2', 'A3', 'A4', 'A5'])
  })

  test('conversation_max_messages bounds the history sent to the model', async () => {
    const id = await createBot(env.t, alice, { conversation_max_messages: 3 })
    await activate(env.t, alice, id)
    for (let i = 1; i <= 4; i++) {
      env.llm.reply({ text: `answer ${i}` })
      await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: `question ${i}` })
    }
    const sent = env.llm.requests.at(-1)!.body.messages.filter((m: any) => m.role !== 'system')
    // The last 3 stored messages are [a2, q3, a3]; history starts at a user turn, then the new question.
    expect(sent.map((m: any) => m.content)).toEqual(['question 3', 'answer 3', 'question 4'])
  })

  test('fallback when the run fails (default text when none is set) and when it times out; failures recorded', async () => {
    const id = await createBot(env.t, alice, { timeout_ms: 1000 })
    await activate(env.t, alice, id)
    env.llm.reply({ status: 400, error: 'bad request upstream' })
    const failed = await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: 'hi' })
    expect(failed.replies).toEqual([DEFAULT_FALLBACK])
    expect(failed.failed).toBe(true)
    await req('PATCH', `/api/bots/${id}`, { token: alice.token, body: { fallback_message: 'Please try later.' } })
    env.llm.reply({ text: 'too slow', delayMs: 3000 })
    const slow = await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: 'hi again' })
    expect(slow.replies).toEqual(['Please try later.'])
    expect(slow.error?.code).toBe('timeout')
    const rows = messages(slow.conversationId).filter((m) => m.role === 'assistant')
    expect(rows.map((m) => [m.kind, m.stop_reason])).toEqual([['fallback', expect.any(String)], ['fallback', 'timeout']])
    expect(rows.every((m) => m.error)).toBe(true)
    expect(eventsOf('bot.message.sent', id).map((e) => e.failed)).toEqual([true, true])
  }, 15_000)

  test('empty text is refused; unknown bot 404', async () => {
    const id = await createBot(env.t, alice)
    await activate(env.t, alice, id)
    await expect(handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: '   ' })).rejects.toMatchObject({ status: 400 })
    await expect(handleIncoming(env.t.k, 'bt_nope', { chatId: 'c', userId: 'u', text: 'x' })).rejects.toMatchObject({ status: 404 })
  })

  test('different conversations run concurrently', async () => {
    const id = await createBot(env.t, alice)
    await activate(env.t, alice, id)
    env.llm.reply({ text: 'slow one', delayMs: 300 }, { text: 'fast one' })
    const [a, b] = await Promise.all([
      handleIncoming(env.t.k, id, { chatId: 'x', userId: '1', text: 'a' }),
      handleIncoming(env.t.k, id, { chatId: 'y', userId: '2', text: 'b' }),
    ])
    expect(new Set([a.replies[0], b.replies[0]])).toEqual(new Set(['slow one', 'fast one']))
    expect(a.conversationId).not.toBe(b.conversationId)
  })
})

describe('money', () => {
  test('wallet: platform key, debited in the same transaction; empty wallet answers the fallback without calling the model', async () => {
    const dave = await userWithWorkspace(env.t)
    const id = await createBot(env.t, dave, { fallback_message: 'Out of credit.' })
    await activate(env.t, dave, id)
    const n = env.llm.requests.length
    const broke = await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: 'hi' })
    expect(broke.replies).toEqual(['Out of credit.'])
    expect(broke.error?.code).toBe('wallet_empty')
    expect(env.llm.requests.length).toBe(n)
    await credit(dave, 1)
    env.llm.reply({ text: 'paid answer', usage: { input: 1000, output: 1000 } })
    const ok = await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: 'hi' })
    expect(ok.replies).toEqual(['paid answer'])
    expect(env.llm.requests.at(-1)!.headers.authorization).toBe('Bearer sk-test')
    expect(await balance(dave)).toBeCloseTo(1 - (1000 * 15 + 1000 * 60) / 1e6, 9)
    const ledger = env.t.k.db.query<any, [string]>("SELECT * FROM wallet_ledger WHERE user_id = ? AND kind = 'debit'").all(dave.id)
    expect(ledger).toHaveLength(1)
    expect(ledger[0]).toMatchObject({ ref_type: 'bot_message', ref_id: ok.assistantMessageId, amount_micro: 75000 })
  })

  test("byok: the bot's own key, no debit; byok without a key fails clearly", async () => {
    const id = await createBot(env.t, bob, { billing_mode: 'byok', llm_api_key: 'sk-bobs-own' })
    await activate(env.t, bob, id)
    const before = await balance(bob)
    env.llm.reply({ text: 'on your key', usage: { input: 1000, output: 1000 } })
    const r = await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: 'hi' })
    expect(r.replies).toEqual(['on your key'])
    expect(env.llm.requests.at(-1)!.headers.authorization).toBe('Bearer sk-bobs-own')
    expect(await balance(bob)).toBe(before)
    await req('PATCH', `/api/bots/${id}`, { token: bob.token, body: { llm_api_key: null } })
    const n = env.llm.requests.length
    const noKey = await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: 'hi' })
    expect(noKey.failed).toBe(true)
    expect(noKey.error).toMatchObject({ code: 'missing_key', message: expect.stringMatching(/llm_api_key/) })
    expect(env.llm.requests.length).toBe(n)
    const t = await req('POST', `/api/bots/${id}/test`, { token: bob.token, body: { message: 'hi' } })
    expect(t.status).toBe(400)
    expect(t.body.error).toMatch(/byok.*llm_api_key/)
  })

  test('plan_quota: monthly tokens per user set by an admin; over quota answers the fallback and records why; a new month resets', async () => {
    const erin = await userWithWorkspace(env.t)
    const id = await createBot(env.t, erin, { billing_mode: 'plan_quota', fallback_message: 'Quota reached.' })
    await activate(env.t, erin, id)
    const q = await req('PATCH', `/api/admin/users/${erin.id}`, { token: admin.token, body: { monthly_token_quota: 2500 } })
    expect(q.status).toBe(200)
    env.llm.reply({ text: 'one', usage: { input: 1000, output: 200 } }, { text: 'two', usage: { input: 1000, output: 200 } }, { text: 'three', usage: { input: 1000, output: 200 } })
    expect((await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: 'a' })).replies).toEqual(['one'])
    expect((await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: 'b' })).replies).toEqual(['two']) // 1200 < 2500
    const third = await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: 'c' }) // 2400 used: still under
    expect(third.replies).toEqual(['three'])
    env.llm.reply({ text: 'new month' })
    const n = env.llm.requests.length
    const stopped = await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: 'd' }) // 3600 used
    expect(stopped.replies).toEqual(['Quota reached.'])
    expect(stopped.error?.code).toBe('quota_exceeded')
    expect(env.llm.requests.length).toBe(n)
    expect(await balance(erin)).toBe(0) // plan_quota never debits the wallet
    clock.set(Date.parse('2026-04-01T00:00:01Z'))
    for (const who of [admin, alice, bob, erin]) await relogin(env.t, who)
    const fresh = await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: 'e' })
    expect(fresh.replies).toEqual(['new month'])
    const an = await req('GET', `/api/bots/${id}/analytics?from=2026-03-01&to=2026-04-01`, { token: erin.token })
    expect(an.body.summary.quota_stops).toBe(1)
    expect(an.body.stop_reasons).toEqual({ quota_exceeded: 1 })
  })

  test('spending_cap_cents: stops answering once lifetime cost reaches the cap; recorded and visible in analytics; test answers 402', async () => {
    // gpt-4o: $2.50 / $10 per million -> 1000 in + 1000 out = 1.25 cents per answer.
    const id = await createBot(env.t, bob, { llm_model: 'gpt-4o', spending_cap_cents: 2, fallback_message: 'Budget reached.' })
    await activate(env.t, bob, id)
    env.llm.reply({ text: 'first', usage: { input: 1000, output: 1000 } }, { text: 'second', usage: { input: 1000, output: 1000 } })
    expect((await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: '1' })).replies).toEqual(['first'])
    expect((await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: '2' })).replies).toEqual(['second']) // 1.25 < 2
    const n = env.llm.requests.length
    const capped = await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: '3' }) // 2.5 >= 2
    expect(capped.replies).toEqual(['Budget reached.'])
    expect(capped.error?.code).toBe('spending_cap')
    expect(env.llm.requests.length).toBe(n)
    const t = await req('POST', `/api/bots/${id}/test`, { token: bob.token, body: { message: 'hi' } })
    expect(t.status).toBe(402)
    const bot = (await req('GET', `/api/bots/${id}`, { token: bob.token })).body.bot
    expect(bot).toMatchObject({ spending_cap_cents: 2, total_cost_cents: 2.5 })
    const an = (await req('GET', `/api/bots/${id}/analytics`, { token: bob.token })).body
    expect(an.summary.spending_cap_stops).toBe(2)
    expect(an.spending_cap).toEqual({ cap_cents: 2, total_cost_cents: 2.5, reached: true, stops: 2 })
    // Raising the cap lets it answer again.
    await req('PATCH', `/api/bots/${id}`, { token: bob.token, body: { spending_cap_cents: 10 } })
    env.llm.reply({ text: 'back in business' })
    expect((await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: '4' })).replies).toEqual(['back in business'])
  })
})
