import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { testApp } from './helpers'
import { startFakeLlm } from './fixtures/fake-llm'
import { testTools } from './fixtures/test-tools'
import { collect, run } from '../src/agent/run'
import type { AgentSpec, ChatMessage, RunEvent } from '../src/agent/types'

/** Both wire formats end to end against the fake LLM, JSON and SSE: answers, tool calls, history, usage and cost. */

const fake = await startFakeLlm()
const t = testApp({ env: { OPENAI_BASE_URL: fake.openaiBase, OPENAI_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: fake.anthropicBase, ANTHROPIC_API_KEY: 'sk-ant-test' } })
afterAll(() => { t.close(); fake.close() })
beforeEach(() => fake.reset())

const MODELS = { openai: 'gpt-4o-mini', anthropic: 'claude-3-5-haiku-20241022' } as const
type Wire = keyof typeof MODELS

const spec = (provider: Wire, extra: Partial<AgentSpec> = {}): AgentSpec => ({
  systemPrompt: 'You are terse.', provider, model: MODELS[provider], ownerId: 'usr_test', maxTokens: 321, ...extra,
})

async function events(s: AgentSpec, message: string, opts: { stream?: boolean; history?: ChatMessage[] } = {}) {
  const out: RunEvent[] = []
  for await (const e of run(t.k, s, { message, history: opts.history }, { stream: opts.stream })) out.push(e)
  return out
}
const finalOf = (evs: RunEvent[]) => evs[evs.length - 1] as Extract<RunEvent, { type: 'run.completed' }>

const modes = [
  { wire: 'openai' as const, stream: false },
  { wire: 'openai' as const, stream: true },
  { wire: 'anthropic' as const, stream: false },
  { wire: 'anthropic' as const, stream: true },
]

for (const { wire, stream } of modes) {
  describe(`${wire} ${stream ? 'streaming' : 'JSON'}`, () => {
    test('plain answer: events, result, usage, cost and the request we sent', async () => {
      fake.reply({ text: 'Hello there, friend.', usage: { input: 1000, output: 500 } })
      const evs = await events(spec(wire), 'Hi', { stream })
      expect(evs[0].type).toBe('run.started')
      const last = finalOf(evs)
      expect(last.type).toBe('run.completed')
      const r = last.result
      expect(r.text).toBe('Hello there, friend.')
      expect(r.output).toBe('Hello there, friend.')
      expect(r.raw_output).toBeUndefined()
      expect(r.stop_reason).toBe('stop')
      expect(r.usage.tokens_input).toBe(1000)
      expect(r.usage.tokens_output).toBe(500)
      // gpt-4o-mini: $0.15/$0.60 per M; claude-3-5-haiku: $0.80/$4 per M -> micro-cents = tokens * usd * 100
      const micro = wire === 'openai' ? 1000 * 15 + 500 * 60 : 1000 * 80 + 500 * 400
      expect(r.usage.cost_micro).toBe(micro)
      expect(r.usage.cost_cents).toBe(micro / 1e6)
      expect(r.usage.cost_known).toBe(true)
      expect(r.usage.iterations).toBe(1)
      expect(r.token_breakdown).toEqual({ systemPrompt: Math.ceil('You are terse.'.length / 4), total: 1500, estimated: true })
      expect(r.messages).toEqual([{ role: 'assistant', content: 'Hello there, friend.' }])
      const deltas = evs.filter((e) => e.type === 'text.delta').map((e) => (e as { text: string }).text)
      expect(deltas.join('')).toBe('Hello there, friend.')
      expect(deltas.length).toBe(stream ? 3 : 1)
      expect(evs.find((e) => e.type === 'usage')).toMatchObject({ tokens_input: 1000, tokens_output: 500, iteration: 1 })

      const req = fake.requests[0]
      expect(fake.requests.length).toBe(1)
      expect(req.format).toBe(wire)
      expect(req.stream).toBe(stream)
      expect(req.body.model).toBe(MODELS[wire])
      if (wire === 'openai') {
        expect(req.headers.authorization).toBe('Bearer sk-test')
        expect(req.body.messages).toEqual([{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Hi' }])
        expect(req.body.max_completion_tokens).toBe(321)
        expect(req.body.stream_options).toEqual(stream ? { include_usage: true } : undefined)
        expect(req.body.tools).toBeUndefined()
      } else {
        expect(req.headers['x-api-key']).toBe('sk-ant-test')
        expect(req.headers['anthropic-version']).toBe('2023-06-01')
        expect(req.body.system).toBe('You are terse.')
        expect(req.body.messages).toEqual([{ role: 'user', content: 'Hi' }])
        expect(req.body.max_tokens).toBe(321)
      }
    })

    test('one tool call with arguments split into one-character chunks', async () => {
      const tools = testTools()
      fake.reply(
        { text: 'Let me add.', toolCalls: [{ id: 'c1', name: 'add', arguments: { a: 20, b: 22 }, chunkSize: 1 }], usage: { input: 10, output: 5 } },
        { text: 'It is 42.', usage: { input: 30, output: 4 } },
      )
      const evs = await events(spec(wire, { tools }), 'add 20 and 22', { stream })
      const last = finalOf(evs)
      expect(last.type).toBe('run.completed')
      expect(tools.calls).toEqual([{ name: 'add', args: { a: 20, b: 22 } }])
      expect(evs.map((e) => e.type as string)).toEqual(['run.started', 'text.delta', ...(stream ? ['text.delta', 'text.delta'] : []), 'usage', 'tool.started', 'tool.completed', ...(stream ? ['text.delta', 'text.delta', 'text.delta'] : ['text.delta']), 'usage', 'run.completed'])
      expect(evs.find((e) => e.type === 'tool.started')).toMatchObject({ call_id: 'c1', tool: 'add', arguments: { a: 20, b: 22 } })
      expect(evs.find((e) => e.type === 'tool.completed')).toMatchObject({ call_id: 'c1', tool: 'add', success: true, result: '42' })
      const r = last.result
      expect(r.text).toBe('It is 42.')
      expect(r.tool_calls).toHaveLength(1)
      expect(r.tool_calls[0]).toMatchObject({ tool: 'add', success: true })
      expect(r.usage).toMatchObject({ tokens_input: 40, tokens_output: 9, iterations: 2 })
      expect(r.messages).toEqual([
        { role: 'assistant', content: 'Let me add.', toolCalls: [{ id: 'c1', name: 'add', arguments: { a: 20, b: 22 } }] },
        { role: 'tool', toolCallId: 'c1', name: 'add', content: '42' },
        { role: 'assistant', content: 'It is 42.' },
      ])
      const first = fake.requests[0].body
      const second = fake.requests[1].body
      if (wire === 'openai') {
        expect(first.tools).toEqual((await tools.list()).map((d) => ({ type: 'function', function: { name: d.name, description: d.description, parameters: d.inputSchema } })))
        expect(second.messages.slice(2)).toEqual([
          { role: 'assistant', content: 'Let me add.', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'add', arguments: '{"a":20,"b":22}' } }] },
          { role: 'tool', tool_call_id: 'c1', content: '42' },
        ])
      } else {
        expect(first.tools[0]).toEqual({ name: 'add', description: 'Add two numbers', input_schema: (await tools.list())[0].inputSchema })
        expect(second.messages.slice(1)).toEqual([
          { role: 'assistant', content: [{ type: 'text', text: 'Let me add.' }, { type: 'tool_use', id: 'c1', name: 'add', input: { a: 20, b: 22 } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'c1', content: '42' }] },
        ])
      }
    })

    test('several tool calls in one turn run concurrently, results go back in order', async () => {
      const tools = testTools(3)
      fake.reply(
        { toolCalls: [1, 2, 3].map((n) => ({ id: `b${n}`, name: 'barrier', arguments: { tag: `t${n}` }, chunkSize: 3 })) },
        { text: 'all passed' },
      )
      const evs = await events(spec(wire, { tools }), 'go', { stream })
      expect(finalOf(evs).type).toBe('run.completed')
      // barrier(3) resolves only when all three calls run at the same time
      expect(tools.calls.map((c) => c.args.tag)).toEqual(['t1', 't2', 't3'])
      expect(evs.filter((e) => e.type === 'tool.started').map((e) => (e as { call_id: string }).call_id)).toEqual(['b1', 'b2', 'b3'])
      expect(evs.filter((e) => e.type === 'tool.completed')).toHaveLength(3)
      expect(finalOf(evs).result.tool_calls.map((c) => c.success)).toEqual([true, true, true])
      const second = fake.requests[1].body.messages
      if (wire === 'openai') expect(second.slice(-3).map((m: { tool_call_id: string; content: string }) => [m.tool_call_id, m.content])).toEqual([['b1', 'passed t1'], ['b2', 'passed t2'], ['b3', 'passed t3']])
      else expect(second.at(-1).content.map((b: { tool_use_id: string }) => b.tool_use_id)).toEqual(['b1', 'b2', 'b3'])
    })

    test('history in, new messages out, and that history round-trips', async () => {
      const history: ChatMessage[] = [
        { role: 'user', content: 'what is 1+1?' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'h1', name: 'add', arguments: { a: 1, b: 1 } }] },
        { role: 'tool', toolCallId: 'h1', name: 'add', content: '2' },
        { role: 'assistant', content: 'Two.' },
      ]
      fake.reply({ text: 'Four.' })
      const evs = await events(spec(wire, { tools: testTools() }), 'and 2+2?', { stream, history })
      expect(finalOf(evs).result.messages).toEqual([{ role: 'assistant', content: 'Four.' }])
      const sent = fake.requests[0].body.messages
      if (wire === 'openai') {
        expect(sent).toEqual([
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'what is 1+1?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'h1', type: 'function', function: { name: 'add', arguments: '{"a":1,"b":1}' } }] },
          { role: 'tool', tool_call_id: 'h1', content: '2' },
          { role: 'assistant', content: 'Two.' },
          { role: 'user', content: 'and 2+2?' },
        ])
      } else {
        expect(sent).toEqual([
          { role: 'user', content: 'what is 1+1?' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'h1', name: 'add', input: { a: 1, b: 1 } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'h1', content: '2' }] },
          { role: 'assistant', content: 'Two.' },
          { role: 'user', content: 'and 2+2?' },
        ])
      }
    })

    test('invalid arguments, unknown tool, failing tool and non-JSON arguments become failed tool results the model sees', async () => {
      const tools = testTools()
      fake.reply(
        {
          toolCalls: [
            { id: 'x1', name: 'add', arguments: { a: 'one', b: 2 } },
            { id: 'x2', name: 'nope', arguments: {} },
            { id: 'x3', name: 'boom', arguments: {} },
            { id: 'x4', name: 'add', arguments: '{"a": 1, "b":' },
          ],
        },
        { text: 'sorry' },
      )
      const evs = await events(spec(wire, { tools }), 'go', { stream })
      const last = finalOf(evs)
      expect(last.type).toBe('run.completed')
      expect(last.result.tool_calls.map((c) => [c.tool, c.success])).toEqual([['add', false], ['nope', false], ['boom', false], ['add', false]])
      // only boom reached a tool: validation stopped the others first
      expect(tools.calls.map((c) => c.name)).toEqual(['boom'])
      const results = last.result.messages.filter((m) => m.role === 'tool') as Array<{ content: string; isError?: boolean }>
      expect(results.every((m) => m.isError)).toBe(true)
      expect(results[0].content).toContain('a must be number')
      expect(results[1].content).toContain('Unknown tool "nope"')
      expect(results[2].content).toContain('the tool exploded')
      expect(results[3].content).toMatch(wire === 'anthropic' && !stream ? /must be a JSON object/ : /not valid JSON/)
      const sent = JSON.stringify(fake.requests[1].body.messages)
      expect(sent).toContain('the tool exploded')
      if (wire === 'anthropic') expect(sent).toContain('"is_error":true')
    })
  })
}

test('tool progress is streamed as tool.progress between started and completed', async () => {
  fake.reply({ toolCalls: [{ id: 'p1', name: 'progress', arguments: {} }] }, { text: 'ok' })
  const evs = await events(spec('openai', { tools: testTools() }), 'go', { stream: true })
  const toolEvents = evs.filter((e) => e.type.startsWith('tool.'))
  expect(toolEvents.map((e) => e.type)).toEqual(['tool.started', 'tool.progress', 'tool.progress', 'tool.completed'])
  expect(toolEvents[1]).toMatchObject({ call_id: 'p1', tool: 'progress', progress: 1, total: 2, message: 'half' })
})

describe('pricing through the runtime', () => {
  test('unknown model: cost 0 and cost_known false', async () => {
    fake.reply({ text: 'hi', usage: { input: 100, output: 100 } })
    const r = await collect(run(t.k, spec('openai', { model: 'my-finetune-xyz' }), { message: 'x' }))
    expect(r.ok).toBe(true)
    expect(r.result.usage).toMatchObject({ tokens_input: 100, tokens_output: 100, cost_micro: 0, cost_cents: 0, cost_known: false })
  })

  test('no usage from the provider: cost unknown, token total estimated from sizes', async () => {
    fake.reply({ text: 'abcdefgh', usage: null })
    const r = await collect(run(t.k, spec('openai'), { message: 'x' }, { stream: true }))
    expect(r.ok).toBe(true)
    expect(r.result.usage.cost_known).toBe(false)
    expect(r.result.usage.tokens_input).toBe(0)
    expect(r.result.token_breakdown.total).toBeGreaterThan(2)
    expect(r.result.token_breakdown.estimated).toBe(true)
  })

  test('ollama is local and free; OpenAI-compatible providers send max_tokens', async () => {
    const o = testApp({ env: { OLLAMA_HOST: fake.url } })
    try {
      fake.reply({ text: 'local', usage: { input: 50, output: 50 } })
      const r = await collect(run(o.k, { systemPrompt: '', provider: 'ollama', model: 'llama3.2', ownerId: 'u', maxTokens: 77 }, { message: 'x' }))
      expect(r.ok).toBe(true)
      expect(r.result.usage).toMatchObject({ cost_micro: 0, cost_known: true })
      const req = fake.requests[0]
      expect(req.body.max_tokens).toBe(77)
      expect(req.headers.authorization).toBeUndefined()
      expect(req.body.messages[0]).toEqual({ role: 'user', content: 'x' })
    } finally { o.close() }
  })
})
