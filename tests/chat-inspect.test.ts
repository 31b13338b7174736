import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chatEnv, conversation, send, userWithWorkspace, type Who } from './chat-kit'
import type { EpEnv } from './endpoints-kit'
import { testApp, tableCounts } from './helpers'

/** explain-tools, explain-intent, validate-tool-call, GET /tools, providers and settings, test-direct. */

let env: EpEnv
let alice: Who
let conv = ''
const t = () => env.t

beforeAll(async () => {
  env = await chatEnv()
  alice = await userWithWorkspace(env.t)
  conv = await conversation(env.t, alice)
})
afterAll(() => env.close())

describe('explain-tools', () => {
  test('the ranking the orchestrator would offer: scores, matched terms, offered flags', async () => {
    const r = await t().req('POST', `/api/chat/conversations/${conv}/explain-tools`, { token: alice.token, body: { content: 'What time is it in Berlin?' } })
    expect(r.status).toBe(200)
    expect(r.body.k).toBe(8)
    expect(r.body.total_tools).toBeGreaterThanOrEqual(2)
    const top = r.body.tools[0]
    expect(top).toMatchObject({ name: 'current_time', offered: true, reason: 'top_k', source: 'builtin' })
    expect(top.score).toBeGreaterThan(0)
    expect(top.matched_terms).toContain('time')
    expect(r.body.offered).toContain('current_time')
    // Scores are sorted.
    const scores = r.body.tools.map((x: any) => x.score)
    expect([...scores].sort((a: number, b: number) => b - a)).toEqual(scores)
  })

  test('a greeting offers nothing; a tool used earlier stays offered even when nothing matches', async () => {
    const greet = await t().req('POST', `/api/chat/conversations/${conv}/explain-tools`, { token: alice.token, body: { content: 'hello!' } })
    expect(greet.body.offered).toEqual([])
    expect(greet.body.intent.needs_tools).toBe(false)
    env.llm.reply({ toolCalls: [{ id: 'u1', name: 'current_time', arguments: {} }] }, { text: 'noon' })
    expect((await send(t(), alice, conv, { content: 'what is the time?' })).status).toBe(200)
    const later = await t().req('POST', `/api/chat/conversations/${conv}/explain-tools`, { token: alice.token, body: { content: 'fetch https://example.com please' } })
    const used = later.body.tools.find((x: any) => x.name === 'current_time')
    expect(used.offered).toBe(true)
    expect(later.body.tools[0].name).toBe('http_request')
  })
})

describe('explain-intent', () => {
  test('with a model configured: the model classifies (JSON)', async () => {
    env.llm.reply({ text: JSON.stringify({ intent: 'action', needs_tools: true, confidence: 0.93, reasoning: 'Wants a Slack post.' }) })
    const r = await t().req('POST', `/api/chat/conversations/${conv}/explain-intent`, { token: alice.token, body: { content: 'Post a summary to Slack #prod-updates' } })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ intent: 'action', needs_tools: true, confidence: 0.93, reasoning: 'Wants a Slack post.', method: 'llm', provider: 'openai' })
  })

  test('a model that fails or answers nonsense falls back to the heuristic, saying why', async () => {
    env.llm.reply({ status: 400, error: 'nope' })
    const r = await t().req('POST', `/api/chat/conversations/${conv}/explain-intent`, { token: alice.token, body: { content: 'Explain how MCP works' } })
    expect(r.body).toMatchObject({ method: 'heuristic', intent: 'conversation', needs_tools: false })
    expect(r.body.fallback_reason).toMatch(/model call failed/)
  })

  test('no model configured: the model-free classification', async () => {
    const bare = testApp({ env: { OLLAMA_HOST: 'http://127.0.0.1:9' } })
    try {
      const u = await userWithWorkspace(bare)
      const c = await conversation(bare, u)
      const ask = (content: string) => bare.req('POST', `/api/chat/conversations/${c}/explain-intent`, { token: u.token, body: { content } })
      const a = await ask('Send the weekly report to https://example.com/hook')
      expect(a.body).toMatchObject({ intent: 'action', needs_tools: true, method: 'heuristic', fallback_reason: 'no model is configured' })
      expect(a.body.confidence).toBeGreaterThan(0.5)
      expect(a.body.reasoning).toBeTruthy()
      expect((await ask('thanks!')).body).toMatchObject({ intent: 'conversation', needs_tools: false })
      expect((await ask('What is the current time in Tokyo?')).body.needs_tools).toBe(true)
      expect((await ask('Explain what a webhook is')).body.needs_tools).toBe(false)
    } finally { bare.close() }
  })
})

describe('validate-tool-call', () => {
  test('valid, invalid with paths, unknown; nothing runs', async () => {
    const before = tableCounts(t().k)
    const ok = await t().req('POST', `/api/chat/conversations/${conv}/validate-tool-call`, { token: alice.token, body: { name: 'current_time', arguments: { timezone: 'UTC' } } })
    expect(ok.body).toMatchObject({ valid: true, errors: [] })
    expect(ok.body.tool).toMatchObject({ name: 'current_time', source: 'builtin' })
    const bad = await t().req('POST', `/api/chat/conversations/${conv}/validate-tool-call`, { token: alice.token, body: { name: 'http_request', arguments: { method: 'FETCH', extra: 1 } } })
    expect(bad.body.valid).toBe(false)
    const paths = bad.body.errors.map((e: any) => e.path).sort()
    expect(paths).toEqual(['arguments.extra', 'arguments.method', 'arguments.url'])
    expect(bad.body.errors.every((e: any) => typeof e.message === 'string' && e.message)).toBe(true)
    const unknown = await t().req('POST', `/api/chat/conversations/${conv}/validate-tool-call`, { token: alice.token, body: { name: 'nope', arguments: {} } })
    expect(unknown.body).toEqual({ valid: false, tool: null, errors: [{ path: 'name', message: 'unknown tool "nope"' }] })
    const notObject = await t().req('POST', `/api/chat/conversations/${conv}/validate-tool-call`, { token: alice.token, body: { name: 'current_time', arguments: [1] } })
    expect(notObject.body.errors).toEqual([{ path: 'arguments', message: 'must be an object' }])
    expect(tableCounts(t().k)).toEqual(before)
  })
})

describe('GET /api/chat/tools', () => {
  test('the tools of your first workspace; include_all adds tools that need a connection, marked', async () => {
    const r = await t().req('GET', '/api/chat/tools', { token: alice.token })
    expect(r.status).toBe(200)
    expect(r.body.workspace_id).toBe(alice.ws)
    expect(r.body.tools.map((x: any) => x.name)).toEqual(expect.arrayContaining(['http_request', 'current_time']))
    expect(r.body.tools.every((x: any) => x.available)).toBe(true)
    const all = await t().req('GET', '/api/chat/tools?include_all=true', { token: alice.token })
    const unavailable = all.body.tools.filter((x: any) => !x.available)
    expect(unavailable.length).toBeGreaterThan(0)
    expect(unavailable[0].requires_configuration).toBe(true)
    expect(unavailable[0].reason).toBeTruthy()
    expect((await t().req('GET', '/api/chat/tools?all=true', { token: alice.token })).body.count).toBe(all.body.count)
  })
})

describe('providers and settings', () => {
  test('each provider: configured, base URL, default and priced models, reachable; no secrets', async () => {
    const r = await t().req('GET', '/api/chat/providers', { token: alice.token })
    expect(r.status).toBe(200)
    const openai = r.body.providers.find((p: any) => p.id === 'openai')
    expect(openai).toMatchObject({ configured: true, byok_only: false, base_url: env.llm.openaiBase, default_model: 'gpt-4o-mini', reachable: true })
    expect(openai.models).toContain('gpt-4o')
    const gemini = r.body.providers.find((p: any) => p.id === 'gemini')
    expect(gemini).toMatchObject({ configured: false, byok_only: true, reachable: null, key_env: 'GEMINI_API_KEY' })
    expect(r.text).not.toContain('sk-test')
    expect(r.body.default).toEqual({ provider: 'openai', model: 'gpt-4o-mini', source: 'server' })
  })

  test('PUT /settings sets your default; turns and GET /providers use it', async () => {
    const u = await userWithWorkspace(t())
    const r = await t().req('PUT', '/api/chat/settings', { token: u.token, body: { default_provider: 'anthropic', default_model: 'claude-3-5-haiku-latest' } })
    expect(r.status).toBe(200)
    expect(r.body.effective).toEqual({ provider: 'anthropic', model: 'claude-3-5-haiku-latest', source: 'user' })
    expect((await t().req('GET', '/api/chat/providers', { token: u.token })).body.default.provider).toBe('anthropic')
    const c = await conversation(t(), u)
    env.llm.reply({ text: 'hi from anthropic' })
    expect((await send(t(), u, c, { content: 'hello' })).body.content).toBe('hi from anthropic')
    expect(env.llm.requests.at(-1)!).toMatchObject({ format: 'anthropic' })
    expect(env.llm.requests.at(-1)!.body.model).toBe('claude-3-5-haiku-latest')
    expect((await t().req('PUT', '/api/chat/settings', { token: u.token, body: { default_provider: 'bogus' } })).status).toBe(400)
    expect((await t().req('PUT', '/api/chat/settings', { token: u.token, body: { default_provider: null } })).body.effective.source).toBe('server')
  })

  test('a provider without a key is refused before anything is saved', async () => {
    const before = tableCounts(t().k)
    const r = await send(t(), alice, conv, { content: 'hi', provider: 'groq' })
    expect(r.status).toBe(400)
    expect(r.body.code).toBe('llm_key_missing')
    expect(r.body.error).toContain('GROQ_API_KEY')
    expect(tableCounts(t().k)).toEqual(before)
  })
})

describe('test-direct', () => {
  test('one answer, no tools, no history, not saved (the run is recorded as a test)', async () => {
    const before = t().k.db.query<{ n: number }, []>('SELECT count(*) AS n FROM chat_messages').get()!.n
    env.llm.reply({ text: 'Direct answer.' })
    const r = await t().req('POST', '/api/chat/test-direct', { token: alice.token, body: { content: 'Create a summary of my last 5 HubSpot deals.', provider: 'openai' } })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ content: 'Direct answer.', provider: 'openai', model: 'gpt-4o-mini', saved: false })
    expect(r.body.tokens_used).toBeGreaterThan(0)
    const sent = env.llm.requests.at(-1)!.body
    expect(sent.tools).toBeUndefined()
    expect(sent.messages.map((m: any) => m.role)).toEqual(['system', 'user'])
    expect(t().k.db.query<{ n: number }, []>('SELECT count(*) AS n FROM chat_messages').get()!.n).toBe(before)
    expect(t().k.runs.get(r.body.run_id)).toMatchObject({ source: 'chat', status: 'test' })
  })
})
