/** Conversations (pagination and limits), analytics (daily rows, totals, top tools, statuses) and insights, with exact numbers. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ManualClock } from '../src/clock'
import { botsEnv, createBot, activate, relogin, userWithWorkspace, type BotsEnv, type Who } from './bots-kit'
import { handleIncoming } from '../plugins/bots/engine'

const clock = new ManualClock(Date.parse('2026-03-10T09:00:00Z'))
let env: BotsEnv, alice: Who, bob: Who, bot: string, convA: string, convB: string

// gpt-4o-mini micro-cents per token: 15 in, 60 out.
const cost = (i: number, o: number) => (i * 15 + o * 60) / 1e6

beforeAll(async () => {
  env = await botsEnv({ clock })
  alice = await userWithWorkspace(env.t)
  bob = await userWithWorkspace(env.t)
  bot = await createBot(env.t, alice, { conversation_ttl_hours: 24 })
  await activate(env.t, alice, bot)
  const say = (chat: string, user: string, text: string) => handleIncoming(env.t.k, bot, { chatId: chat, userId: user, text })
  // Day 1 (2026-03-10): conversation A, two exchanges, the second one uses a tool.
  env.llm.reply({ text: 'Hello!', usage: { input: 100, output: 10 } })
  convA = (await say('A', 'ua', 'Hi')).conversationId
  clock.advance(60_000)
  env.llm.reply(
    { toolCalls: [{ name: 'current_time', arguments: {} }], usage: { input: 200, output: 20 } },
    { text: 'It is 09:01.', usage: { input: 300, output: 30 } },
  )
  await say('A', 'ua', 'What time is it?')
  // Day 2 (2026-03-11): conversation B, one answer and one failure.
  clock.set(Date.parse('2026-03-11T12:00:00Z'))
  env.llm.reply({ text: 'Refunds take 5 days.', usage: { input: 400, output: 40 } })
  convB = (await say('B', 'ub', 'Can I get a refund?')).conversationId
  env.llm.reply({ status: 400, error: 'boom' })
  await say('B', 'ub', 'And shipping?')
  // Day 3 (2026-03-12): more conversations for pagination.
  clock.set(Date.parse('2026-03-12T08:00:00Z'))
  for (const c of ['C', 'D', 'E']) {
    clock.advance(60_000)
    env.llm.reply({ text: `hi ${c}`, usage: { input: 10, output: 1 } })
    await say(c, `u${c}`, 'hello')
  }
  for (const who of [alice, bob]) await relogin(env.t, who) // JWTs follow the ManualClock
})
afterAll(() => env.close())

const req = (...a: Parameters<BotsEnv['t']['req']>) => env.t.req(...a)

describe('GET /api/bots/:id/conversations', () => {
  const cases: { q: string; status: number; n?: number; error?: RegExp }[] = [
    { q: '', status: 200, n: 5 },
    { q: '?limit=2', status: 200, n: 2 },
    { q: '?limit=2&offset=4', status: 200, n: 1 },
    { q: '?offset=5', status: 200, n: 0 },
    { q: '?limit=1', status: 200, n: 1 },
    { q: '?limit=100', status: 200, n: 5 },
    { q: '?limit=0', status: 400, error: /limit/ },
    { q: '?limit=101', status: 400, error: /limit/ },
    { q: '?offset=-1', status: 400, error: /offset/ },
    { q: '?limit=abc', status: 400, error: /limit/ },
  ]
  for (const c of cases) {
    test(`query "${c.q}" -> ${c.status}`, async () => {
      const r = await req('GET', `/api/bots/${bot}/conversations${c.q}`, { token: alice.token })
      expect(r.status).toBe(c.status)
      if (c.n !== undefined) {
        expect(r.body.conversations).toHaveLength(c.n)
        expect(r.body.total).toBe(5)
      }
      if (c.error) expect(r.body.error).toMatch(c.error)
    })
  }

  test('newest first, default limit 50 / offset 0, conversation shape', async () => {
    const r = await req('GET', `/api/bots/${bot}/conversations`, { token: alice.token })
    expect(r.body).toMatchObject({ limit: 50, offset: 0, total: 5 })
    expect(r.body.conversations.map((c: any) => c.platform_chat_id)).toEqual(['E', 'D', 'C', 'B', 'A'])
    const a = r.body.conversations.find((c: any) => c.id === convA)
    expect(a).toEqual({
      id: convA, bot_id: bot, platform_chat_id: 'A', platform_user_id: 'ua', platform_user_name: null, source: 'platform', status: 'active',
      message_count: 4, tokens_input: 600, tokens_output: 60, total_cost_cents: cost(600, 60),
      started_at: '2026-03-10T09:00:00Z', last_message_at: '2026-03-10T09:01:00Z',
    })
  })

  test("others' bots 404", async () => {
    expect((await req('GET', `/api/bots/${bot}/conversations`, { token: bob.token })).status).toBe(404)
    expect((await req('GET', `/api/bots/${bot}/conversations/${convA}`, { token: bob.token })).status).toBe(404)
  })
})

describe('GET /api/bots/:id/conversations/:convId', () => {
  test('conversation with messages, oldest first', async () => {
    const r = await req('GET', `/api/bots/${bot}/conversations/${convA}`, { token: alice.token })
    expect(r.status).toBe(200)
    expect(r.body.conversation).toMatchObject({ id: convA, platform_user_id: 'ua', message_count: 4, total_cost_cents: cost(600, 60) })
    expect(r.body.messages.map((m: any) => [m.role, m.content])).toEqual([
      ['user', 'Hi'], ['assistant', 'Hello!'], ['user', 'What time is it?'], ['assistant', 'It is 09:01.'],
    ])
    expect(r.body.messages[3]).toMatchObject({ tokens_input: 500, tokens_output: 50, tool_calls: [{ tool: 'current_time', success: true }], loop_iterations: 1 })
    expect(r.body.has_more).toBe(false)
  })

  const cases: { q: string; status: number; n?: number }[] = [
    { q: '?limit=1', status: 200, n: 1 }, { q: '?limit=500', status: 200, n: 4 }, { q: '?limit=0', status: 400 }, { q: '?limit=501', status: 400 },
  ]
  for (const c of cases) {
    test(`messages "${c.q}" -> ${c.status}`, async () => {
      const r = await req('GET', `/api/bots/${bot}/conversations/${convA}${c.q}`, { token: alice.token })
      expect(r.status).toBe(c.status)
      if (c.n !== undefined) expect(r.body.messages).toHaveLength(c.n)
    })
  }

  test('limit keeps the latest messages; the reference\'s /messages path is an alias', async () => {
    const r = await req('GET', `/api/bots/${bot}/conversations/${convA}/messages?limit=2`, { token: alice.token })
    expect(r.status).toBe(200)
    expect(r.body.messages.map((m: any) => m.content)).toEqual(['What time is it?', 'It is 09:01.'])
    expect(r.body.has_more).toBe(true)
  })

  test('a conversation of another bot answers 404', async () => {
    const other = await createBot(env.t, alice)
    expect((await req('GET', `/api/bots/${other}/conversations/${convA}`, { token: alice.token })).status).toBe(404)
    expect((await req('GET', `/api/bots/${bot}/conversations/bconv_nope`, { token: alice.token })).status).toBe(404)
  })
})

describe('GET /api/bots/:id/analytics', () => {
  test('daily rows, totals, top tools, latency, statuses', async () => {
    const r = await req('GET', `/api/bots/${bot}/analytics?from=2026-03-10&to=2026-03-13`, { token: alice.token })
    expect(r.status).toBe(200)
    expect(r.body.daily.map((d: any) => d.date)).toEqual(['2026-03-10', '2026-03-11', '2026-03-12', '2026-03-13'])
    expect(r.body.daily[0]).toMatchObject({
      messages: 4, messages_received: 2, messages_sent: 2, conversations: 1, new_conversations: 1,
      tokens_input: 600, tokens_output: 60, cost_cents: cost(600, 60), errors: 0,
    })
    expect(r.body.daily[1]).toMatchObject({ messages: 4, conversations: 1, new_conversations: 1, tokens_input: 400, tokens_output: 40, errors: 1 })
    expect(r.body.daily[2]).toMatchObject({ messages: 6, conversations: 3, new_conversations: 3, tokens_input: 30, tokens_output: 3, errors: 0 })
    expect(r.body.daily[3]).toMatchObject({ messages: 0, conversations: 0, tokens_input: 0, cost_cents: 0, errors: 0, avg_latency_ms: 0 })
    expect(r.body.summary).toMatchObject({
      messages: 14, messages_received: 7, messages_sent: 7, conversations: 5, new_conversations: 5, unique_users: 5,
      tokens_input: 1030, tokens_output: 103, errors: 1, spending_cap_stops: 0, quota_stops: 0,
    })
    expect(r.body.summary.cost_cents).toBeCloseTo(cost(1030, 103), 9)
    expect(r.body.top_tools).toEqual([{ tool: 'current_time', calls: 1, failures: 0, avg_latency_ms: expect.any(Number) }])
    expect(typeof r.body.avg_latency_ms).toBe('number')
    // Now is 2026-03-12T08:03: A (last message 03-10 09:01) is past its 24 h TTL; B..E are within it.
    expect(r.body.conversations_by_status).toEqual({ active: 4, expired: 1 })
    expect(Object.values(r.body.stop_reasons)).toEqual([1]) // the one failed run, under the runtime's error code
  })

  test('range: one day; defaults to the last 30 days', async () => {
    const one = await req('GET', `/api/bots/${bot}/analytics?from=2026-03-11&to=2026-03-11`, { token: alice.token })
    expect(one.body.daily).toHaveLength(1)
    expect(one.body.summary).toMatchObject({ messages: 4, conversations: 1 })
    const dflt = await req('GET', `/api/bots/${bot}/analytics`, { token: alice.token })
    expect(dflt.status).toBe(200)
    expect(dflt.body).toMatchObject({ from: '2026-02-10', to: '2026-03-12' })
    expect(dflt.body.daily).toHaveLength(31)
    expect(dflt.body.summary.messages).toBe(14)
  })

  const bad: { q: string; error: RegExp }[] = [
    { q: '?from=2026-13-01', error: /from must be a date/ },
    { q: '?to=2026-02-30', error: /to must be a date/ },
    { q: '?from=yesterday', error: /from must be a date/ },
    { q: '?from=2026-03-12&to=2026-03-10', error: /from must not be after to/ },
    { q: '?from=2025-03-11&to=2026-03-12', error: /at most 366 days/ },
  ]
  for (const c of bad) {
    test(`400 for ${c.q}`, async () => {
      const r = await req('GET', `/api/bots/${bot}/analytics${c.q}`, { token: alice.token })
      expect(r.status).toBe(400)
      expect(r.body.error).toMatch(c.error)
    })
  }
  test('366 days is allowed', async () => {
    expect((await req('GET', `/api/bots/${bot}/analytics?from=2025-03-12&to=2026-03-12`, { token: alice.token })).status).toBe(200)
  })
})

describe('GET /api/bots/:id/insights', () => {
  test('unanswered = responses without any tool (and fallbacks); resolution rate', async () => {
    const r = await req('GET', `/api/bots/${bot}/insights`, { token: alice.token })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ total_responses: 7, total_answered: 1, resolution_rate: 14 })
    const qs = r.body.unanswered_questions
    expect(qs).toHaveLength(6)
    expect(qs.map((q: any) => q.question)).toEqual(['hello', 'hello', 'hello', 'And shipping?', 'Can I get a refund?', 'Hi'])
    expect(qs[4]).toEqual({ question: 'Can I get a refund?', bot_response: 'Refunds take 5 days.', created_at: '2026-03-11T12:00:00Z', conversation_id: convB })
    expect(qs.some((q: any) => q.question === 'What time is it?')).toBe(false)
  })

  test('a bot without messages: zeros', async () => {
    const empty = await createBot(env.t, alice)
    const r = await req('GET', `/api/bots/${empty}/insights`, { token: alice.token })
    expect(r.body).toEqual({ unanswered_questions: [], resolution_rate: 0, total_answered: 0, total_responses: 0 })
  })
})
