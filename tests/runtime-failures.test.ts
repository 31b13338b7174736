import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { testApp } from './helpers'
import { startFakeLlm, type FakeReply } from './fixtures/fake-llm'
import { testTools } from './fixtures/test-tools'
import { collect, preflight, run } from '../src/agent/run'
import { ApiError } from '../src/http/errors'
import type { AgentSpec, RunEvent } from '../src/agent/types'

/** Failure mapping, key resolution, budgets, timeout and cancellation, for both wire formats. */

const fake = await startFakeLlm()
const t = testApp({ env: { OPENAI_BASE_URL: fake.openaiBase, OPENAI_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: fake.anthropicBase, ANTHROPIC_API_KEY: 'sk-ant-test' } })
const bare = testApp({ env: { OPENAI_BASE_URL: fake.openaiBase, ANTHROPIC_BASE_URL: fake.anthropicBase } })
afterAll(() => { t.close(); bare.close(); fake.close() })
beforeEach(() => fake.reset())

const MODELS = { openai: 'gpt-4o', anthropic: 'claude-sonnet-4-20250514' } as const
type Wire = keyof typeof MODELS
const FAST = { baseMs: 2, maxRetries: 2 }
const spec = (provider: Wire, extra: Partial<AgentSpec> = {}): AgentSpec => ({
  systemPrompt: 'sys', provider, model: MODELS[provider], ownerId: 'usr_test', retry: FAST, timeoutMs: 10_000, ...extra,
})

interface FailCase {
  name: string
  replies: FakeReply[]
  stream?: boolean
  extra?: Partial<AgentSpec>
  status: number
  code: string
  message: RegExp
  requests: number
}

const failures: FailCase[] = [
  { name: '401 -> key rejected, no retry', replies: [{ status: 401 }], status: 502, code: 'llm_auth_failed', message: /the LLM provider rejected the API key/i, requests: 1 },
  { name: '403 -> key rejected, no retry', replies: [{ status: 403 }], status: 502, code: 'llm_auth_failed', message: /rejected the API key/i, requests: 1 },
  { name: '400 -> refused with the provider message, no retry', replies: [{ status: 400, error: 'model xyz does not exist' }], status: 502, code: 'llm_request_rejected', message: /model xyz does not exist/, requests: 1 },
  { name: '429 every time -> retried, then 502', replies: [{ status: 429 }, { status: 429 }, { status: 429 }], status: 502, code: 'llm_rate_limited', message: /rate limiting/, requests: 3 },
  { name: '500 every time -> retried, then 502', replies: [{ status: 500 }, { status: 503 }, { status: 502 }], status: 502, code: 'llm_upstream_error', message: /HTTP 502/, requests: 3 },
  { name: '429 whose retry-after exceeds the time budget -> 502 at once', replies: [{ status: 429, headers: { 'retry-after': '30' } }], extra: { timeoutMs: 2000 }, status: 502, code: 'llm_rate_limited', message: /rate limiting/, requests: 1 },
  { name: 'malformed stream -> error, not an empty answer', replies: [{ text: 'partial answer', malformed: true }], stream: true, status: 502, code: 'llm_stream_malformed', message: /malformed stream/, requests: 1 },
  { name: 'stream cut before the end -> error', replies: [{ text: 'partial answer', truncate: true }], stream: true, status: 502, code: 'llm_stream_malformed', message: /malformed stream/, requests: 1 },
  { name: 'JSON body that is not JSON -> error', replies: [{ raw: 'not json at all' }], stream: false, status: 502, code: 'llm_stream_malformed', message: /not JSON/, requests: 1 },
]

for (const wire of ['openai', 'anthropic'] as const) {
  describe(`${wire} failures`, () => {
    for (const c of failures) {
      test(c.name, async () => {
        fake.reply(...c.replies)
        const evs: RunEvent[] = []
        for await (const e of run(t.k, spec(wire, c.extra), { message: 'hi' }, { stream: c.stream })) evs.push(e)
        const last = evs[evs.length - 1]
        expect(evs[0].type).toBe('run.started')
        expect(last.type).toBe('run.failed')
        const f = last as Extract<RunEvent, { type: 'run.failed' }>
        expect(f.status).toBe(c.status)
        expect(f.code).toBe(c.code)
        expect(f.error).toMatch(c.message)
        expect(fake.requests.length).toBe(c.requests)
        expect(f.result.usage.iterations).toBe(1)
        expect(JSON.stringify(evs)).not.toContain('sk-test')
      })
    }

    test('429 with retry-after-ms, then success', async () => {
      fake.reply({ status: 429, headers: { 'retry-after-ms': '5' } }, { status: 500 }, { text: 'made it' })
      const r = await collect(run(t.k, spec(wire), { message: 'hi' }))
      expect(r.ok).toBe(true)
      expect(r.result.text).toBe('made it')
      expect(fake.requests.length).toBe(3)
    })

    test('429 with retry-after in seconds is honoured', async () => {
      fake.reply({ status: 429, headers: { 'retry-after': '1' } }, { text: 'waited' })
      const r = await collect(run(t.k, spec(wire, { retry: { baseMs: 1, maxRetries: 1 } }), { message: 'hi' }))
      expect(r.ok).toBe(true)
      expect(fake.requests[1].at - fake.requests[0].at).toBeGreaterThanOrEqual(900)
    })

    test('no key at all: 400 naming the provider and the variable, before any request', async () => {
      const r = await collect(run(bare.k, spec(wire), { message: 'hi' }))
      expect(r.ok).toBe(false)
      if (r.ok) return
      expect(r.status).toBe(400)
      expect(r.code).toBe('llm_key_missing')
      expect(r.error).toContain(wire)
      expect(r.error).toContain(wire === 'openai' ? 'OPENAI_API_KEY' : 'ANTHROPIC_API_KEY')
      expect(fake.requests.length).toBe(0)
      await expect(preflight(bare.k, spec(wire))).rejects.toMatchObject({ status: 400, code: 'llm_key_missing' })
    })

    test('BYOK key wins over the platform key', async () => {
      fake.reply({ text: 'ok' })
      const r = await collect(run(bare.k, spec(wire, { apiKey: 'sk-own-key' }), { message: 'hi' }))
      expect(r.ok).toBe(true)
      const h = fake.requests[0].headers
      expect(wire === 'openai' ? h.authorization : h['x-api-key']).toBe(wire === 'openai' ? 'Bearer sk-own-key' : 'sk-own-key')
    })

    test('iteration budget exhausted: clear error with the partial usage', async () => {
      const loopForever: FakeReply = { toolCalls: [{ name: 'add', arguments: { a: 1, b: 1 } }], usage: { input: 10, output: 3 } }
      fake.reply(loopForever, loopForever, loopForever)
      const r = await collect(run(t.k, spec(wire, { tools: testTools(), maxIterations: 2 }), { message: 'loop' }))
      expect(r.ok).toBe(false)
      if (r.ok) return
      expect(r.status).toBe(422)
      expect(r.code).toBe('iteration_budget_exhausted')
      expect(r.error).toContain('2 model turns')
      expect(fake.requests.length).toBe(2)
      expect(r.result.usage).toMatchObject({ tokens_input: 20, tokens_output: 6, iterations: 2 })
      expect(r.result.usage.cost_micro).toBeGreaterThan(0)
      expect(r.result.tool_calls).toHaveLength(2)
    })

    test('tool-call budget exhausted: the run ends before calling past the budget', async () => {
      const tools = testTools()
      fake.reply({ toolCalls: [{ name: 'add', arguments: { a: 1, b: 1 } }, { name: 'add', arguments: { a: 2, b: 2 } }], usage: { input: 7, output: 2 } })
      const r = await collect(run(t.k, spec(wire, { tools, maxToolCalls: 1 }), { message: 'x' }))
      expect(r.ok).toBe(false)
      if (r.ok) return
      expect(r.code).toBe('tool_budget_exhausted')
      expect(r.status).toBe(422)
      expect(tools.calls).toHaveLength(0)
      expect(r.result.usage.tokens_input).toBe(7)
    })

    test('time budget exhausted while the LLM hangs: 504 and the fake sees the request cancelled', async () => {
      fake.reply({ hang: true })
      const r = await collect(run(t.k, spec(wire, { timeoutMs: 300 }), { message: 'x' }, { stream: true }))
      expect(r.ok).toBe(false)
      if (r.ok) return
      expect(r.status).toBe(504)
      expect(r.code).toBe('run_timeout')
      await fake.waitForAbort(0)
    })

    test('time budget exhausted during a tool call: 504 and the tool sees the abort', async () => {
      const tools = testTools()
      fake.reply({ toolCalls: [{ name: 'wait_abort', arguments: {} }] })
      const r = await collect(run(t.k, spec(wire, { tools, timeoutMs: 300 }), { message: 'x' }))
      expect(r.ok).toBe(false)
      if (r.ok) return
      expect(r.status).toBe(504)
      expect(tools.calls[0].aborted).toBe(true)
    })

    test('timeout is hard-capped at 60 s', async () => {
      fake.reply({ text: 'fine' })
      const r = await collect(run(t.k, spec(wire, { timeoutMs: 10 * 60_000 }), { message: 'x' }))
      expect(r.ok).toBe(true)
    })

    test('caller abort mid-stream cancels the upstream request', async () => {
      const ac = new AbortController()
      fake.reply({ text: 'one two three four five six seven eight nine ten', tokenDelayMs: 50 })
      const evs: RunEvent[] = []
      for await (const e of run(t.k, spec(wire), { message: 'x' }, { signal: ac.signal, stream: true })) {
        evs.push(e)
        if (e.type === 'text.delta') ac.abort()
      }
      const last = evs[evs.length - 1] as Extract<RunEvent, { type: 'run.failed' }>
      expect(last.type).toBe('run.failed')
      expect(last.code).toBe('cancelled')
      await fake.waitForAbort(0)
    })

    test('caller abort while waiting for the first byte', async () => {
      const ac = new AbortController()
      fake.reply({ hang: true })
      const done = collect(run(t.k, spec(wire), { message: 'x' }, { signal: ac.signal }))
      await fake.waitForRequests(1)
      ac.abort()
      const r = await done
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.code).toBe('cancelled')
      await fake.waitForAbort(0)
    })

    test('consumer stops iterating (SSE client gone): return() cancels the upstream request', async () => {
      fake.reply({ hang: true })
      const it = run(t.k, spec(wire), { message: 'x' })[Symbol.asyncIterator]()
      expect((await it.next()).value.type).toBe('run.started')
      const pending = it.next()
      await fake.waitForRequests(1)
      const ret = it.return!()
      await fake.waitForAbort(0)
      expect((await pending).done).toBe(true)
      expect((await ret).done).toBe(true)
      expect((await it.next()).done).toBe(true)
    })
  })
}

test('a caller abort carrying an ApiError keeps that reason', async () => {
  const ac = new AbortController()
  fake.reply({ hang: true })
  const done = collect(run(t.k, spec('openai'), { message: 'x' }, { signal: ac.signal }))
  await fake.waitForRequests(1)
  ac.abort(new ApiError(503, 'The server is shutting down', 'shutting_down'))
  const r = await done
  expect(r.ok).toBe(false)
  if (!r.ok) expect([r.status, r.code, r.error]).toEqual([503, 'shutting_down', 'The server is shutting down'])
  await fake.waitForAbort(0)
})

describe('provider configuration', () => {
  test('custom provider needs a base URL', async () => {
    const r = await collect(run(t.k, { systemPrompt: '', provider: 'custom', model: 'm', ownerId: 'u', apiKey: 'k' }, { message: 'x' }))
    expect(r.ok).toBe(false)
    if (!r.ok) { expect(r.status).toBe(400); expect(r.code).toBe('llm_base_url_missing'); expect(r.error).toContain('base_url') }
  })

  test('custom provider with an allowed base URL talks OpenAI wire format', async () => {
    fake.reply({ text: 'custom ok', usage: { input: 1, output: 1 } })
    const r = await collect(run(t.k, { systemPrompt: '', provider: 'custom', model: 'my-model', ownerId: 'u', apiKey: 'ck', baseUrl: fake.openaiBase }, { message: 'x' }))
    expect(r.ok).toBe(true)
    expect(fake.requests[0].format).toBe('openai')
    expect(fake.requests[0].headers.authorization).toBe('Bearer ck')
    expect(r.result.usage.cost_known).toBe(false)
  })

  test('custom base URL on a private address goes through the outbound guard', async () => {
    const strict = testApp({ env: { AGENTBASE_OUTBOUND_ALLOW: '' } })
    try {
      const r = await collect(run(strict.k, { systemPrompt: '', provider: 'custom', model: 'm', ownerId: 'u', baseUrl: fake.openaiBase }, { message: 'x' }))
      expect(r.ok).toBe(false)
      if (!r.ok) { expect(r.status).toBe(400); expect(r.code).toBe('url_refused') }
      expect(fake.requests.length).toBe(0)
    } finally { strict.close() }
  })

  test('unknown provider and missing model are 400s', async () => {
    const a = await collect(run(t.k, { systemPrompt: '', provider: 'nope' as never, model: 'm', ownerId: 'u' }, { message: 'x' }))
    const b = await collect(run(t.k, { systemPrompt: '', provider: 'openai', model: '', ownerId: 'u' }, { message: 'x' }))
    expect([a.ok, b.ok]).toEqual([false, false])
    if (!a.ok) expect(a.status).toBe(400)
    if (!b.ok) expect(b.status).toBe(400)
  })

  test('groq, gemini and workers-ai use their env keys and bases', async () => {
    const g = testApp({ env: { GROQ_BASE_URL: fake.openaiBase, GROQ_API_KEY: 'gsk', GEMINI_BASE_URL: fake.openaiBase, GEMINI_API_KEY: 'gem', WORKERS_AI_BASE_URL: fake.openaiBase } })
    try {
      fake.reply({ text: 'a', usage: { input: 1_000_000, output: 0 } }, { text: 'b' })
      const groq = await collect(run(g.k, { systemPrompt: '', provider: 'groq', model: 'llama-3.3-70b-versatile', ownerId: 'u' }, { message: 'x' }))
      const gem = await collect(run(g.k, { systemPrompt: '', provider: 'gemini', model: 'gemini-2.5-flash', ownerId: 'u' }, { message: 'x' }))
      expect(groq.ok && gem.ok).toBe(true)
      expect(groq.result.usage.cost_micro).toBe(59_000_000)
      expect(fake.requests.map((r) => r.headers.authorization)).toEqual(['Bearer gsk', 'Bearer gem'])
      const wai = await collect(run(g.k, { systemPrompt: '', provider: 'workers-ai', model: '@cf/meta/llama-3.1-8b-instruct', ownerId: 'u' }, { message: 'x' }))
      expect(wai.ok).toBe(false)
      if (!wai.ok) expect(wai.error).toContain('WORKERS_AI_API_KEY')
    } finally { g.close() }
  })
})
