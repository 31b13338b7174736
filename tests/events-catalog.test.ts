/**
 * The typed event catalog: every entry has a TypeBox schema, its example matches it, and every event the app
 * publishes on the flows that produce each type matches its schema (the payload and the documentation agree).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { EVENT_CATALOG, EVENT_TYPES, type EventSpec } from '../src/events/catalog'
import { validate } from '../src/agent/schema'
import { flushToolCalls } from '../src/tools/audit'
import { handleIncoming } from '../plugins/bots/engine'
import { createEndpoint, epEnv, userWithWorkspace, type EpEnv, type Who } from './endpoints-kit'
import { createBot, activate } from './bots-kit'

const spec = (type: string) => (EVENT_CATALOG as Record<string, EventSpec>)[type]
const problem = (type: string, data: unknown) => {
  const s = spec(type)?.schema
  return s ? validate(s as Record<string, unknown>, data) : `no schema for ${type}`
}

test('every catalog entry has a schema, and its example matches it', () => {
  for (const type of EVENT_TYPES) {
    expect({ type, schema: !!spec(type).schema }).toEqual({ type, schema: true })
    expect({ type, problem: problem(type, spec(type).example) }).toEqual({ type, problem: null })
  }
})

test('a payload that differs from its schema is refused by the validator (the check can fail)', () => {
  expect(problem('bot.status.changed', { bot_id: 'bt_1', platform: 'telegram', from: 'paused', to: 'active' })).not.toBeNull()
  expect(problem('run.completed', { run_id: 'run_1', source: 'endpoint', source_id: null, status: 'success', usage: { input_tokens: 1 } })).not.toBeNull()
})

describe('every event the app publishes matches its schema', () => {
  let env: EpEnv, admin: Who, alice: Who
  const seen: Array<{ type: string; data: unknown }> = []
  beforeAll(async () => {
    env = await epEnv({ env: { AGENTBASE_BILLING: 'on' } })
    env.t.k.events.subscribe((e) => seen.push({ type: e.type, data: e.data }))
    admin = await userWithWorkspace(env.t)
    alice = await userWithWorkspace(env.t)
  })
  afterAll(() => env.close())

  test('endpoints, bots, tools, wallet and webhooks flows', async () => {
    const req = env.t.req
    // Just over the low-balance threshold: one paid run crosses it (wallet.balance.low).
    expect((await req('POST', '/api/wallet/credit', { token: admin.token, body: { user_id: alice.id, amount_cents: 100.3 } })).status).toBe(200)
    const e = await createEndpoint(env.t, alice, { name: 'Catalog', max_tool_calls: 2 }) // endpoint.status.changed
    env.llm.reply({ text: 'fine', usage: { input: 20_000, output: 5_000 } })
    expect((await req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: 'x' } })).status).toBe(200) // run.completed
    env.llm.reply({ status: 400, error: 'bad request' })
    expect((await req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: 'x' } })).status).toBeGreaterThanOrEqual(400) // run.failed
    env.llm.reply({ toolCalls: [{ name: 'http_request', arguments: { url: 'http://169.254.169.254/latest' } }] }, { text: 'could not fetch' })
    expect((await req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: 'fetch it' } })).status).toBe(200)
    flushToolCalls(env.t.k) // tool.call.failed
    expect((await req('POST', `/api/agent-endpoints/${e.id}/deactivate`, { token: alice.token })).status).toBe(200)

    const botId = await createBot(env.t, alice, { billing_mode: 'byok', llm_api_key: 'sk-own' })
    await activate(env.t, alice, botId) // bot.status.changed
    env.llm.reply({ text: 'hello there' })
    const r = await handleIncoming(env.t.k, botId, { chatId: 'c1', userId: 'u1', userName: 'Ada', text: 'hi' }) // conversation, received, sent, run
    expect(r.failed).toBe(false)
    expect((await req('POST', `/api/bots/${botId}/pause`, { token: alice.token })).status).toBe(200)
    expect((await req('DELETE', `/api/bots/${botId}`, { token: alice.token })).status).toBe(200)
    // Workflows: one execution that completes, one that fails (workflow.execution.completed / failed).
    const wf = await req('POST', '/api/workflows/from-steps', { token: alice.token, body: { name: 'Catalog', steps: [{ id: 'x', type: 'transform', expression: 'input.n + 1' }] } })
    expect((await req('POST', `/api/workflows/${wf.body.id}/execute`, { token: alice.token, body: { input_data: { n: 1 } } })).body.status).toBe('success')
    expect((await req('POST', `/api/workflows/${wf.body.id}/execute`, { token: alice.token, body: { input_data: {} } })).body.status).toBe('failed')
    await Bun.sleep(0)

    const published = new Set(seen.map((x) => x.type))
    // The types these flows produce (webhook.test is sent on request only, checked below; other domains' events
    // are validated by their own flows, and every catalog entry's schema and example by the first test).
    const expected = ['bot.message.received', 'bot.message.sent', 'bot.conversation.started', 'bot.status.changed', 'run.completed', 'run.failed',
      'endpoint.status.changed', 'tool.call.failed', 'wallet.balance.low']
    expect(expected.filter((t) => !published.has(t))).toEqual([])
    const bad = seen.map((x) => ({ type: x.type, problem: problem(x.type, x.data) })).filter((x) => x.problem !== null)
    expect(bad).toEqual([])
    // The bot reply names its run; the run event names the bot and conversation.
    const sent = seen.find((x) => x.type === 'bot.message.sent')!.data as Record<string, unknown>
    expect(sent.run_id).toMatch(/^run_/)
    expect(seen.find((x) => x.type === 'run.completed' && (x.data as any).source === 'bot')!.data).toMatchObject({ bot_id: botId, conversation_id: r.conversationId, run_id: sent.run_id })
  })

  test('webhook.test: the delivered payload matches its schema', async () => {
    const h = await env.t.req('POST', '/api/webhooks', { token: alice.token, body: { url: 'http://127.0.0.1:9/hook', events: ['run.completed'] } })
    expect(h.status).toBe(201)
    expect((await env.t.req('POST', `/api/webhooks/${h.body.webhook.id}/test`, { token: alice.token })).status).toBeLessThan(300)
    const row = env.t.k.db.query<{ payload: string }, [string]>("SELECT payload FROM webhook_deliveries WHERE webhook_id = ? AND event_type = 'webhook.test'").get(h.body.webhook.id)!
    expect(problem('webhook.test', JSON.parse(row.payload).data)).toBeNull()
  })

  test('GET /api/webhooks/events documents each type with its example', async () => {
    const r = await env.t.req('GET', '/api/webhooks/events', { token: alice.token })
    expect(r.status).toBe(200)
    for (const ev of r.body.events) expect({ type: ev.type, problem: problem(ev.type, ev.example.data) }).toEqual({ type: ev.type, problem: null })
  })
})
