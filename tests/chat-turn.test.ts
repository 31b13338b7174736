import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chatEnv, conversation, history, send, sendStream, until, userWithWorkspace, type Who } from './chat-kit'
import type { EpEnv } from './endpoints-kit'
import { listToolCalls } from '../plugins/chat/service'

/** The orchestrator turn over the fake LLM: answers, tool chains, parallel calls, schema repair, SSE, 409 vs enqueue, titles. */

let env: EpEnv
let alice: Who
const t = () => env.t
const llm = () => env.llm

beforeAll(async () => {
  env = await chatEnv()
  alice = await userWithWorkspace(env.t)
})
afterAll(() => env.close())

describe('a plain answer', () => {
  test('the reference message shape, saved with the user message; tokens and cost recorded', async () => {
    const conv = await conversation(t(), alice)
    llm().reply({ text: 'Hello there!', usage: { input: 1000, output: 500 } })
    const r = await send(t(), alice, conv, { content: 'Hi, explain what you can do' })
    expect(r.status).toBe(200)
    const m = r.body
    expect(m).toMatchObject({ conversation_id: conv, role: 'assistant', content: 'Hello there!', status: 'completed', tokens_used: 1500, tools_called: [], tool_call_id: null, error_message: null })
    expect(m.id).toMatch(/^msg_/)
    expect(m.run_id).toMatch(/^run_/)
    // gpt-4o-mini: 1000 * 0.15 + 500 * 0.6 USD per million tokens = 0.045 cents
    expect(m.cost_cents).toBeCloseTo(0.045, 6)
    const h = await history(t(), alice, conv)
    expect(h.map((x) => [x.role, x.content])).toEqual([['user', 'Hi, explain what you can do'], ['assistant', 'Hello there!']])
    expect(h[1]).toEqual(m)
    const conversationRow = (await t().req('GET', `/api/chat/conversations/${conv}`, { token: alice.token })).body.conversation
    expect(conversationRow.message_count).toBe(2)
    // The wallet paid for the platform key.
    const ledger = t().k.db.query<{ n: number }, [string]>("SELECT count(*) AS n FROM wallet_ledger WHERE user_id = ? AND reason = 'chat turn'").get(alice.id)!
    expect(ledger.n).toBe(1)
    const req = llm().requests.at(-1)!
    expect(req.body.model).toBe('gpt-4o-mini')
    expect(req.body.messages[0].role).toBe('system')
  })

  test('a provider override per message; anthropic answers through its own wire format', async () => {
    const conv = await conversation(t(), alice)
    llm().reply({ text: 'From Claude' })
    const r = await send(t(), alice, conv, { content: 'Hello', provider: 'anthropic' })
    expect(r.status).toBe(200)
    expect(r.body.content).toBe('From Claude')
    expect(llm().requests.at(-1)!.format).toBe('anthropic')
  })
})

describe('tools', () => {
  test('a tool chain over several turns: calls, results with their tool_call_id, used tools stay offered', async () => {
    const conv = await conversation(t(), alice)
    llm().reply({ toolCalls: [{ id: 'call_berlin', name: 'current_time', arguments: { timezone: 'Europe/Berlin' } }] }, { text: 'It is noon in Berlin.' })
    const r1 = await send(t(), alice, conv, { content: 'What time is it in Berlin right now?' })
    expect(r1.status).toBe(200)
    expect(r1.body.tools_called).toEqual([{ tool: 'current_time', success: true, latency_ms: expect.any(Number) }])
    const offered1 = llm().requests.at(-2)!.body.tools.map((x: any) => x.function.name)
    expect(offered1).toContain('current_time')
    const h = await history(t(), alice, conv)
    expect(h.map((x) => x.role)).toEqual(['user', 'assistant', 'tool', 'assistant'])
    expect(h[1].tool_calls).toEqual([{ id: 'call_berlin', name: 'current_time', arguments: { timezone: 'Europe/Berlin' } }])
    expect(h[2]).toMatchObject({ role: 'tool', tool_call_id: 'call_berlin', tool_name: 'current_time', is_error: false })
    expect(h[2].content).toContain('Europe/Berlin')

    // Turn 2 mentions nothing time-related: current_time is still offered because it was used before.
    llm().reply({ toolCalls: [{ id: 'call_tokyo', name: 'current_time', arguments: { timezone: 'Asia/Tokyo' } }] }, { text: 'Evening in Tokyo.' })
    const r2 = await send(t(), alice, conv, { content: 'And for Tokyo?' })
    expect(r2.status).toBe(200)
    const first = llm().requests.at(-2)!.body
    expect(first.tools.map((x: any) => x.function.name)).toContain('current_time')
    // The history sent includes the earlier call and its result, paired.
    const toolMsg = first.messages.find((m: any) => m.role === 'tool')
    expect(toolMsg.tool_call_id).toBe('call_berlin')
    expect(first.messages.find((m: any) => m.tool_calls)?.tool_calls[0].id).toBe('call_berlin')

    const calls = listToolCalls(t().k, alice.id, conv)
    expect(calls.map((c) => [c.name, c.arguments, c.tool_call_id])).toEqual([
      ['current_time', { timezone: 'Europe/Berlin' }, 'call_berlin'], ['current_time', { timezone: 'Asia/Tokyo' }, 'call_tokyo'],
    ])
    expect(calls[0].assistant_message_id).toBe(h[1].id)
    expect(calls[0].tool_message_id).toBe(h[2].id)
    expect(calls[0].result).toContain('Europe/Berlin')
    expect(() => listToolCalls(t().k, 'usr_someoneelse', conv)).toThrow()
  })

  test('parallel tool calls in one turn are saved as one assistant message and all of its results', async () => {
    const conv = await conversation(t(), alice)
    llm().reply({ toolCalls: [{ id: 'p1', name: 'current_time', arguments: { timezone: 'UTC' } }, { id: 'p2', name: 'current_time', arguments: { timezone: 'Asia/Tokyo' } }] }, { text: 'Both times.' })
    const r = await send(t(), alice, conv, { content: 'What is the current time in UTC and in Tokyo?' })
    expect(r.status).toBe(200)
    expect(r.body.tools_called).toHaveLength(2)
    const h = await history(t(), alice, conv)
    expect(h.map((x) => x.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'assistant'])
    expect(h.slice(2, 4).map((x) => x.tool_call_id)).toEqual(['p1', 'p2'])
  })

  test('invalid arguments get one repair turn with the validation errors', async () => {
    const conv = await conversation(t(), alice)
    llm().reply(
      { toolCalls: [{ id: 'bad', name: 'current_time', arguments: { timezone: 42 } }] },
      { toolCalls: [{ id: 'good', name: 'current_time', arguments: { timezone: 'UTC' } }] },
      { text: 'Fixed it.' },
    )
    const before = llm().requests.length
    const r = await send(t(), alice, conv, { content: 'What time is it now in UTC?' })
    expect(r.status).toBe(200)
    expect(r.body.content).toBe('Fixed it.')
    const repair = llm().requests[before + 1].body.messages.find((m: any) => m.role === 'tool' && m.tool_call_id === 'bad')
    expect(repair.content).toMatch(/Invalid arguments for current_time: timezone must be string/)
    const h = await history(t(), alice, conv)
    expect(h.filter((x) => x.role === 'tool').map((x) => [x.tool_call_id, x.is_error])).toEqual([['bad', true], ['good', false]])
  })

  test('invalid arguments again after the repair turn end the turn (422), saved as an error message', async () => {
    const conv = await conversation(t(), alice)
    llm().reply(
      { toolCalls: [{ id: 'b1', name: 'current_time', arguments: { timezone: 1 } }] },
      { toolCalls: [{ id: 'b2', name: 'current_time', arguments: { timezone: 2 } }] },
      { text: 'never reached' },
    )
    const r = await send(t(), alice, conv, { content: 'What time is it now?' })
    expect(r.status).toBe(422)
    expect(r.body.code).toBe('tool_arguments_invalid')
    const h = await history(t(), alice, conv)
    const last = h.at(-1)
    expect(last).toMatchObject({ role: 'assistant', status: 'error', id: r.body.details.message_id })
    expect(last.error_message).toMatch(/again after a repair turn/)
    // Every saved call has its result: the history stays valid for the next turn.
    expect(h.filter((x) => x.role === 'tool').map((x) => x.tool_call_id)).toEqual(['b1', 'b2'])
    llm().reset()
  })
})

describe('Anthropic and greetings', () => {
  test('a parallel tool chain over Anthropic: every tool_use is answered by its tool_result in the next request', async () => {
    const conv = await conversation(t(), alice, { title: 'claude', provider: 'anthropic' })
    llm().reply({ toolCalls: [{ id: 'toolu_a', name: 'current_time', arguments: { timezone: 'UTC' } }, { id: 'toolu_b', name: 'current_time', arguments: { timezone: 'Asia/Tokyo' } }] }, { text: 'Both.' })
    expect((await send(t(), alice, conv, { content: 'What time is it in UTC and Tokyo?' })).status).toBe(200)
    llm().reply({ text: 'Later.' })
    expect((await send(t(), alice, conv, { content: 'thanks, and later?' })).status).toBe(200)
    const body = llm().requests.at(-1)!.body
    expect(llm().requests.at(-1)!.format).toBe('anthropic')
    const uses = body.messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content : []).filter((b: any) => b.type === 'tool_use').map((b: any) => b.id))
    const results = body.messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content : []).filter((b: any) => b.type === 'tool_result').map((b: any) => b.tool_use_id))
    expect(uses).toEqual(['toolu_a', 'toolu_b'])
    expect(results.sort()).toEqual(['toolu_a', 'toolu_b'])
    expect(body.messages[0].role).toBe('user')
  })

  test('a greeting is answered without offering tools', async () => {
    const conv = await conversation(t(), alice)
    llm().reply({ text: 'Hi!' })
    expect((await send(t(), alice, conv, { content: 'hello!' })).body.content).toBe('Hi!')
    expect(llm().requests.at(-1)!.body.tools ?? []).toEqual([])
  })
})

describe('streaming', () => {
  test('DESIGN §6 events, parsed with eventsource-parser; run.completed carries the saved message', async () => {
    const conv = await conversation(t(), alice)
    llm().reply({ toolCalls: [{ id: 's1', name: 'current_time', arguments: { timezone: 'UTC' } }] }, { text: 'It is late.' })
    const { res, events, data } = await sendStream(t(), alice, conv, { content: 'What time is it in UTC?' })
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    const types = events.map((e) => e.event)
    expect(types[0]).toBe('run.started')
    expect(types.at(-1)).toBe('run.completed')
    for (const ty of ['text.delta', 'tool.started', 'tool.completed', 'usage']) expect(types).toContain(ty)
    expect(data[0].conversation_id).toBe(conv)
    expect(data.every((d, i) => d.type === types[i])).toBe(true)
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1))
    const text = data.filter((d) => d.type === 'text.delta').map((d) => d.text).join('')
    expect(text).toBe('It is late.')
    const done = data.at(-1)
    expect(done.message).toMatchObject({ role: 'assistant', content: 'It is late.', conversation_id: conv, status: 'completed' })
    expect(done.message.tools_called).toHaveLength(1)
    const h = await history(t(), alice, conv)
    expect(h.at(-1)).toEqual(done.message)
  })

  test('"stream": true in the body streams too; an LLM failure ends with run.failed and an error message', async () => {
    const conv = await conversation(t(), alice)
    llm().reply({ status: 401, error: 'bad key' })
    const res = await t().app.handle(new Request(`http://localhost/api/chat/conversations/${conv}/messages`, {
      method: 'POST', headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ content: 'hello', stream: true }),
    }))
    const { parseSse } = await import('./chat-kit')
    const events = parseSse(await res.text())
    expect(events.at(-1)!.event).toBe('run.failed')
    const last = JSON.parse(events.at(-1)!.data)
    expect(last.message).toMatchObject({ role: 'assistant', status: 'error' })
    expect(last.message.error_message).toBeTruthy()
  })
})

describe('one turn at a time', () => {
  test('a second message while a turn runs is 409 with Retry-After; multitask "enqueue" waits its turn', async () => {
    const conv = await conversation(t(), alice)
    llm().reply({ text: 'first answer', delayMs: 400 }, { text: 'queued answer' })
    const n = llm().requests.length
    const first = send(t(), alice, conv, { content: 'first' })
    await llm().waitForRequests(n + 1)
    const second = await send(t(), alice, conv, { content: 'second' })
    expect(second.status).toBe(409)
    expect(second.body.code).toBe('turn_in_progress')
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0)
    const queued = send(t(), alice, conv, { content: 'third', multitask: 'enqueue' })
    const [a, c] = await Promise.all([first, queued])
    expect(a.body.content).toBe('first answer')
    expect(c.status).toBe(200)
    expect(c.body.content).toBe('queued answer')
    const h = await history(t(), alice, conv)
    expect(h.map((x) => x.content)).toEqual(['first', 'first answer', 'third', 'queued answer'])
  })
})

describe('titles', () => {
  test('without a title: the first words at once, then a generated one that never blocks the reply', async () => {
    const conv = await conversation(t(), alice, {})
    llm().reply({ text: 'The answer.' }, { text: '"Weekly Deal Summary"', delayMs: 300 })
    const r = await send(t(), alice, conv, { content: 'Create a summary of my last 5 HubSpot deals please and thanks' })
    expect(r.status).toBe(200)
    const now = (await t().req('GET', `/api/chat/conversations/${conv}`, { token: alice.token })).body.conversation.title
    expect(now).toBe('Create a summary of my last 5…')
    await until(async () => (await t().req('GET', `/api/chat/conversations/${conv}`, { token: alice.token })).body.conversation.title === 'Weekly Deal Summary', 5000, 'generated title')
  })

  test('a rename before the generated title arrives wins', async () => {
    const conv = await conversation(t(), alice, {})
    llm().reply({ text: 'ok' }, { text: 'Generated', delayMs: 300 })
    const n = llm().requests.length
    await send(t(), alice, conv, { content: 'hello world' })
    await t().req('PUT', `/api/chat/conversations/${conv}`, { token: alice.token, body: { title: 'Mine' } })
    await llm().waitForRequests(n + 2)
    await Bun.sleep(400)
    expect((await t().req('GET', `/api/chat/conversations/${conv}`, { token: alice.token })).body.conversation.title).toBe('Mine')
  })
})
