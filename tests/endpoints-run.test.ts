/** POST /api/run/:slug (reference "Execution Endpoint"): auth, input, the errors table, sync and SSE, runs, tests, tools. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createEndpoint, epEnv, parseSse, userWithWorkspace, count, type Ep, type EpEnv, type Who } from './endpoints-kit'
import { startEverything, type RunningServer } from './fixtures/mcp-servers'
import { tableCounts, untilValue } from './helpers'

let env: EpEnv, alice: Who, bob: Who, ep: Ep, mcp: RunningServer
beforeAll(async () => {
  ;[env, mcp] = await Promise.all([epEnv({ env: { AGENTBASE_TRUST_PROXY: 'on' } }), startEverything('streamableHttp')])
  alice = await userWithWorkspace(env.t)
  bob = await userWithWorkspace(env.t)
  ep = await createEndpoint(env.t, alice, { slug: 'main', rate_limit_rpm: 1000 })
})
afterAll(() => { env.close(); mcp.close() })

const req = (...a: Parameters<EpEnv['t']['req']>) => env.t.req(...a)
const runReq = (slug: string, body: unknown, headers: Record<string, string> = {}) => req('POST', `/api/run/${slug}`, { body, headers })
const lastUserMessage = () => env.llm.requests.at(-1)!.body.messages.filter((m: any) => m.role === 'user').at(-1).content

describe('errors table', () => {
  interface Case { name: string; slug: () => string; headers?: () => Record<string, string>; body?: unknown; raw?: () => BodyInit; status: number; error: RegExp; setup?: () => Promise<void> | void }
  let draft: Ep, paused: Ep, legacy: Ep
  beforeAll(async () => {
    draft = await createEndpoint(env.t, alice, { name: 'Draft' }, false)
    paused = await createEndpoint(env.t, alice, { name: 'Paused' })
    await req('POST', `/api/agent-endpoints/${paused.id}/deactivate`, { token: alice.token })
    legacy = await createEndpoint(env.t, alice, { name: 'Legacy' })
    env.t.k.db.query("UPDATE agent_endpoints SET auth_mode = 'oauth' WHERE id = ?").run(legacy.id) // a mode outside the allowlist
  })
  const key = () => ({ authorization: `Bearer ${ep.key}` })
  const cases: Case[] = [
    { name: '400 no input (empty object)', slug: () => 'main', headers: key, body: {}, status: 400, error: /^Input required/ },
    { name: '400 empty input string', slug: () => 'main', headers: key, body: { input: '   ' }, status: 400, error: /^Input required/ },
    { name: '400 no body at all', slug: () => 'main', headers: key, status: 400, error: /^Input required/ },
    { name: '400 invalid JSON', slug: () => 'main', headers: () => ({ ...key(), 'content-type': 'application/json' }), raw: () => '{"input":', status: 400, error: /not valid JSON/ },
    { name: '401 missing key', slug: () => 'main', body: { input: 'x' }, status: 401, error: /^API key required/ },
    { name: '401 wrong key (Bearer)', slug: () => 'main', headers: () => ({ authorization: 'Bearer aek_wrongwrongwrong' }), body: { input: 'x' }, status: 401, error: /^Invalid API key$/ },
    { name: '401 wrong key (X-API-Key)', slug: () => 'main', headers: () => ({ 'x-api-key': 'aek_wrong' }), body: { input: 'x' }, status: 401, error: /^Invalid API key$/ },
    { name: "401 another endpoint's key", slug: () => 'main', headers: () => ({ 'x-api-key': draft.key }), body: { input: 'x' }, status: 401, error: /^Invalid API key$/ },
    { name: "401 someone else's login token", slug: () => 'main', headers: () => ({ authorization: `Bearer ${bob.token}` }), body: { input: 'x' }, status: 401, error: /^Invalid API key$/ },
    { name: '401 not a Bearer header', slug: () => 'main', headers: () => ({ authorization: `Basic ${btoa('a:b')}` }), body: { input: 'x' }, status: 401, error: /Bearer/ },
    { name: '403 unsupported auth mode', slug: () => legacy.slug, headers: () => ({ 'x-api-key': legacy.key }), body: { input: 'x' }, status: 403, error: /unsupported auth mode/ },
    { name: '404 unknown slug', slug: () => 'no-such-endpoint', headers: key, body: { input: 'x' }, status: 404, error: /^Agent endpoint not found or not active$/ },
    { name: '404 draft (never activated)', slug: () => draft.slug, headers: () => ({ 'x-api-key': draft.key }), body: { input: 'x' }, status: 404, error: /^Agent endpoint not found or not active$/ },
    { name: '404 paused', slug: () => paused.slug, headers: () => ({ 'x-api-key': paused.key }), body: { input: 'x' }, status: 404, error: /^Agent endpoint not found or not active$/ },
    { name: '413 body over 2 MB', slug: () => 'main', headers: () => ({ ...key(), 'content-type': 'application/json' }), raw: () => JSON.stringify({ input: 'x'.repeat(2 * 1024 * 1024) }), status: 413, error: /^Request body too large \(max 2MB\)$/ },
    {
      name: '413 body over 2 MB without Content-Length (counted while reading)', slug: () => 'main', headers: () => ({ ...key(), 'content-type': 'text/plain' }), status: 413, error: /^Request body too large \(max 2MB\)$/,
      raw: () => new ReadableStream({ start(c) { for (let i = 0; i < 9; i++) c.enqueue(new Uint8Array(256 * 1024).fill(97)); c.close() } }),
    },
  ]
  for (const c of cases) {
    test(c.name, async () => {
      const before = tableCounts(env.t.k)
      const calls = env.llm.requests.length
      const r = await req('POST', `/api/run/${c.slug()}`, { headers: c.headers?.(), body: c.body, raw: c.raw?.() })
      expect(r.status).toBe(c.status)
      expect(r.body.error).toMatch(c.error)
      expect(typeof r.body.code).toBe('string')
      expect(env.llm.requests.length).toBe(calls) // the model was never called
      expect(tableCounts(env.t.k)).toEqual(before) // and nothing was written
    })
  }

  test('a body just under 2 MB is accepted', async () => {
    const input = 'y'.repeat(2 * 1024 * 1024 - 100)
    const r = await req('POST', '/api/run/main', { headers: { ...key(), 'content-type': 'text/plain' }, raw: input })
    expect(r.status).toBe(200)
    expect(lastUserMessage().length).toBe(input.length)
  })

  test('429 per endpoint key, with the rate-limit headers', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Limited', rate_limit_rpm: 2 })
    for (let i = 0; i < 2; i++) {
      const ok = await runReq(e.slug, { input: 'x' }, { 'x-api-key': e.key })
      expect(ok.status).toBe(200)
      expect(ok.headers.get('x-ratelimit-limit')).toBe('2')
      expect(ok.headers.get('x-ratelimit-remaining')).toBe(String(1 - i))
    }
    const runs = count(env.t, 'runs', 'source_id = ?', e.id)
    const r = await runReq(e.slug, { input: 'x' }, { authorization: `Bearer ${e.key}` })
    expect(r.status).toBe(429)
    expect(r.body.error).toMatch(/^Rate limited/)
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(r.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(Number(r.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000 - 5)
    expect(count(env.t, 'runs', 'source_id = ?', e.id)).toBe(runs)
  })

  test('public endpoints: no key needed, limited per caller IP', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Open', auth_mode: 'public', rate_limit_rpm: 1 })
    const a = await runReq(e.slug, { input: 'hi' }, { 'x-forwarded-for': '203.0.113.7' })
    expect(a.status).toBe(200)
    expect((await runReq(e.slug, { input: 'hi' }, { 'x-forwarded-for': '203.0.113.7' })).status).toBe(429)
    expect((await runReq(e.slug, { input: 'hi' }, { 'x-forwarded-for': '198.51.100.9' })).status).toBe(200)
    const ips = env.t.k.db.query<{ caller_ip: string }, [string]>('SELECT caller AS caller_ip FROM runs WHERE source_id = ? ORDER BY rowid').all(e.id).map((r) => r.caller_ip)
    expect(ips).toEqual(['203.0.113.7', '198.51.100.9'])
    expect((await runReq(e.slug, { input: 'hi' }, { 'x-api-key': 'aek_bad', 'x-forwarded-for': '192.0.2.1' })).status).toBe(401) // a wrong key is still wrong
  })
})

describe('auth and input', () => {
  test('Bearer aek_, X-API-Key, the owner\'s JWT and a token with endpoints.run all work', async () => {
    const pat = (await req('POST', '/api/tokens', { token: alice.token, body: { name: 'runner', scopes: ['endpoints.run'] } })).body.key
    const readOnly = (await req('POST', '/api/tokens', { token: alice.token, body: { name: 'reader', scopes: ['endpoints.read'] } })).body.key
    const ways: Record<string, string>[] = [{ authorization: `Bearer ${ep.key}` }, { 'x-api-key': ep.key }, { authorization: `Bearer ${alice.token}` }, { authorization: `Bearer ${pat}` }]
    for (const h of ways) {
      expect((await runReq('main', { input: 'x' }, h)).status).toBe(200)
    }
    const r = await runReq('main', { input: 'x' }, { authorization: `Bearer ${readOnly}` })
    expect(r.status).toBe(403)
    expect(r.body.error).toMatch(/endpoints\.run/)
  })

  const inputs: Array<{ name: string; body?: unknown; raw?: string; type?: string; expect: string }> = [
    { name: 'input', body: { input: 'from input', message: 'not this' }, expect: 'from input' },
    { name: 'message', body: { message: 'from message' }, expect: 'from message' },
    { name: 'text', body: { text: 'from text' }, expect: 'from text' },
    { name: 'prompt', body: { prompt: 'from prompt' }, expect: 'from prompt' },
    { name: 'an object input is stringified', body: { input: { invoice: 42 } }, expect: '{"invoice":42}' },
    { name: 'whole body stringified', body: { action: 'opened', issue: { title: 'Bug' } }, expect: '{"action":"opened","issue":{"title":"Bug"}}' },
    { name: 'a JSON array body', body: [1, 2], expect: '[1,2]' },
    { name: 'text/plain body', raw: 'plain words', type: 'text/plain', expect: 'plain words' },
    { name: 'form body', raw: 'text=from+a+form', type: 'application/x-www-form-urlencoded', expect: 'from a form' },
  ]
  for (const c of inputs) {
    test(`input from ${c.name}`, async () => {
      const r = await req('POST', '/api/run/main', { headers: { 'x-api-key': ep.key, ...(c.type ? { 'content-type': c.type } : {}) }, body: c.body, raw: c.raw })
      expect(r.status).toBe(200)
      expect(lastUserMessage()).toBe(c.expect)
      expect(env.t.k.db.query<{ input: string }, [string]>('SELECT input FROM runs WHERE id = ?').get(r.body.run_id)!.input).toBe(c.expect)
    })
  }

  test('key regeneration: the old key stops working at once', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Rotating' })
    expect((await runReq(e.slug, { input: 'x' }, { 'x-api-key': e.key })).status).toBe(200)
    const fresh = (await req('POST', `/api/agent-endpoints/${e.id}/regenerate-key`, { token: alice.token })).body.api_key
    const old = await runReq(e.slug, { input: 'x' }, { 'x-api-key': e.key })
    expect(old.status).toBe(401)
    expect(old.body.error).toBe('Invalid API key')
    expect((await runReq(e.slug, { input: 'x' }, { authorization: `Bearer ${fresh}` })).status).toBe(200)
  })
})

describe('sync answers', () => {
  test('text: output, tool_calls, usage with iterations; what the model was given', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Tuned', system_prompt: 'Be terse.', max_tokens: 321, temperature: 1.5, llm_model: 'gpt-4o-mini' })
    env.llm.reply({ text: 'The article covers X.', usage: { input: 312, output: 67 } })
    const r = await runReq(e.slug, { input: 'Summarize this...' }, { 'x-api-key': e.key })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ output: 'The article covers X.', tool_calls: [], usage: { tokens_input: 312, tokens_output: 67, iterations: 1 } })
    expect(r.body).not.toHaveProperty('raw_output')
    expect(r.body.usage.cost_cents).toBeGreaterThan(0)
    expect(typeof r.body.usage.latency_ms).toBe('number')
    const sent = env.llm.requests.at(-1)!.body
    expect(sent.messages[0]).toEqual({ role: 'system', content: 'Be terse.' })
    expect(sent.max_tokens ?? sent.max_completion_tokens).toBe(321)
    expect(sent.temperature).toBe(1.5)
  })

  test('json output: parsed output plus raw_output', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Jsonish', output_format: 'json', output_schema: { type: 'object', properties: { total: { type: 'number' } }, required: ['total'] } })
    env.llm.reply({ text: '{"total": 12.5}' })
    const r = await runReq(e.slug, { input: 'invoice' }, { 'x-api-key': e.key })
    expect(r.status).toBe(200)
    expect(r.body.output).toEqual({ total: 12.5 })
    expect(r.body.raw_output).toBe('{"total": 12.5}')
    const run = (await req('GET', `/api/agent-endpoints/${e.id}/runs`, { token: alice.token })).body.runs[0]
    expect(JSON.parse(run.output)).toEqual({ total: 12.5 })
  })

  test('tools: a built-in and a real MCP server tool from the workspace', async () => {
    const s = await req('POST', `/api/workspaces/${alice.ws}/mcp-servers`, { token: alice.token, body: { name: 'Everything', url: mcp.url } })
    expect(s.body.mcp_server.status).toBe('connected')
    env.llm.reply(
      { toolCalls: [{ name: 'everything_echo', arguments: { message: 'ping' } }, { name: 'current_time', arguments: {} }] },
      { text: 'Echoed.' },
    )
    const r = await runReq('main', { input: 'echo ping' }, { 'x-api-key': ep.key })
    expect(r.status).toBe(200)
    expect(r.body.output).toBe('Echoed.')
    expect(r.body.usage.iterations).toBe(2)
    expect(r.body.tool_calls.map((c: any) => [c.tool, c.success])).toEqual([['everything_echo', true], ['current_time', true]])
    expect(typeof r.body.tool_calls[0].latency_ms).toBe('number')
    const toolMsg = env.llm.requests.at(-1)!.body.messages.find((m: any) => m.role === 'tool' && m.content.includes('ping'))
    expect(toolMsg).toBeDefined()
    const stored = env.t.k.db.query<{ tool_calls: string }, [string]>('SELECT tool_calls FROM runs WHERE id = ?').get(r.body.run_id)!
    expect(JSON.parse(stored.tool_calls).map((c: any) => c.tool)).toEqual(['everything_echo', 'current_time'])
  })

  test('max_tool_calls bounds the loop (422), recorded as an error', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Bounded', max_tool_calls: 1 })
    env.llm.reply({ toolCalls: [{ name: 'current_time', arguments: {} }, { name: 'current_time', arguments: {} }] })
    const r = await runReq(e.slug, { input: 'x' }, { 'x-api-key': e.key })
    expect(r.status).toBe(422)
    expect(r.body.code).toBe('tool_budget_exhausted')
  })

  test('upstream failure: 502, recorded with status error and run.failed published', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Failing' })
    env.llm.reply({ status: 400, error: 'bad request upstream' })
    const r = await runReq(e.slug, { input: 'x' }, { 'x-api-key': e.key })
    expect(r.status).toBeGreaterThanOrEqual(400)
    expect(r.body.error).toBeTruthy()
    const row = env.t.k.db.query<any, [string]>('SELECT * FROM runs WHERE source_id = ?').get(e.id)
    expect(row.status).toBe('error')
    expect(row.error).toBe(r.body.error)
    const ev = env.t.k.db.query<{ data: string }, []>("SELECT data FROM events WHERE type = 'run.failed' ORDER BY seq DESC LIMIT 1").get()!
    expect(JSON.parse(ev.data)).toMatchObject({ run_id: row.id, endpoint_id: e.id, status: 'error' })
  })

  test('timeout_ms is the run budget (504), capped at 60 s', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Slow', timeout_ms: 1000 })
    env.llm.reply({ hang: true })
    const r = await runReq(e.slug, { input: 'x' }, { 'x-api-key': e.key })
    expect(r.status).toBe(504)
    expect(r.body.code).toBe('run_timeout')
    const { specFor } = await import('../plugins/agent-endpoints/execute')
    const row = env.t.k.db.query<any, [string]>('SELECT * FROM agent_endpoints WHERE id = ?').get(e.id)
    expect(specFor(env.t.k, { ...row, timeout_ms: 120000 }).timeoutMs).toBe(60000)
  })

  test('a completed run publishes run.completed with id, endpoint, status and usage', async () => {
    const r = await runReq('main', { input: 'x' }, { 'x-api-key': ep.key })
    const ev = env.t.k.db.query<{ data: string; owner_id: string }, []>("SELECT data, owner_id FROM events WHERE type = 'run.completed' ORDER BY seq DESC LIMIT 1").get()!
    expect(ev.owner_id).toBe(alice.id)
    expect(JSON.parse(ev.data)).toEqual({ run_id: r.body.run_id, source: 'endpoint', source_id: ep.id, endpoint_id: ep.id, status: 'success', usage: r.body.usage })
  })
})

describe('streaming (enable_streaming)', () => {
  test('SSE per DESIGN §6, parsed with eventsource-parser; the run is recorded', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Streamer', enable_streaming: true })
    env.llm.reply({ text: 'Hello streaming world' })
    const res = await env.t.app.handle(new Request(`http://localhost/api/run/${e.slug}`, { method: 'POST', headers: { 'x-api-key': e.key, 'content-type': 'application/json' }, body: JSON.stringify({ input: 'hi' }) }))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    const events = parseSse(await res.text())
    const types = events.map((x) => x.event)
    expect(types[0]).toBe('run.started')
    expect(types.at(-1)).toBe('run.completed')
    expect(types).toContain('usage')
    expect(events.map((x) => Number(x.id))).toEqual(events.map((_, i) => i + 1))
    const data = events.map((x) => JSON.parse(x.data))
    expect(data.every((d, i) => d.type === types[i])).toBe(true)
    expect(data[0].endpoint_id).toBe(e.id)
    expect(data.filter((d) => d.type === 'text.delta').map((d) => d.text).join('')).toBe('Hello streaming world')
    const runId = data[0].run_id
    const row = env.t.k.db.query<any, [string]>('SELECT * FROM runs WHERE id = ?').get(runId)
    expect(row).toMatchObject({ status: 'success', output: 'Hello streaming world', mode: 'stream', source: 'endpoint', source_id: e.id })
    expect(data.at(-1).result.usage.cost_cents).toBe(row.cost_micro / 1e6)
  })

  test('an upstream error ends the stream with run.failed, recorded as error', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Streamer fail', enable_streaming: true })
    env.llm.reply({ status: 401, error: 'bad key' })
    const res = await env.t.app.handle(new Request(`http://localhost/api/run/${e.slug}`, { method: 'POST', headers: { 'x-api-key': e.key, 'content-type': 'application/json' }, body: JSON.stringify({ input: 'hi' }) }))
    const events = parseSse(await res.text())
    expect(events.at(-1)!.event).toBe('run.failed')
    const d = JSON.parse(events.at(-1)!.data)
    expect(env.t.k.db.query<any, [string]>('SELECT status, error FROM runs WHERE id = ?').get(d.run_id)).toEqual({ status: 'error', error: d.error })
  })

  test('the client going away cancels the run and the upstream request; recorded as cancelled', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Streamer cancel', enable_streaming: true })
    const n = env.llm.requests.length
    env.llm.reply({ text: 'one two three four five six seven eight', tokenDelayMs: 200 })
    const ac = new AbortController()
    const res = await env.t.app.handle(new Request(`http://localhost/api/run/${e.slug}`, { method: 'POST', signal: ac.signal, headers: { 'x-api-key': e.key, 'content-type': 'application/json' }, body: JSON.stringify({ input: 'hi' }) }))
    const reader = res.body!.getReader()
    await reader.read()
    await env.llm.waitForRequests(n + 1)
    ac.abort()
    await reader.cancel()
    await env.llm.waitForAbort(n)
    // The row exists from the start (a stream can be re-joined); wait for its outcome.
    const row = await untilValue(() => env.t.k.db.query<any, [string]>('SELECT * FROM runs WHERE source_id = ?').get(e.id), (r) => !!r && r.status !== 'running', 'the recorded outcome')
    expect(row).toMatchObject({ status: 'cancelled', error_code: 'cancelled', mode: 'stream' })
  })
})

describe('runs history and test runs', () => {
  test('every run recorded with the reference fields; limit default 50, max 100; newest first', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Many', rate_limit_rpm: 1000 })
    for (let i = 0; i < 55; i++) expect((await runReq(e.slug, { input: `n${i}` }, { 'x-api-key': e.key })).status).toBe(200)
    const list = (q = '') => req('GET', `/api/agent-endpoints/${e.id}/runs${q}`, { token: alice.token })
    const d = await list()
    expect(d.status).toBe(200)
    expect(d.body.runs.length).toBe(50)
    expect(d.body.runs[0].input).toBe('n54')
    expect(d.body.runs[49].input).toBe('n5')
    const r = d.body.runs[0]
    expect(r).toMatchObject({ endpoint_id: e.id, output: 'ok', tool_calls: '[]', status: 'success', caller_ip: '127.0.0.1' })
    expect(r.id).toMatch(/^run_/)
    for (const f of ['tokens_input', 'tokens_output', 'cost_cents', 'latency_ms']) expect(typeof r[f]).toBe('number')
    expect(r.created_at).toMatch(/Z$/)
    expect((await list('?limit=100')).body.runs.length).toBe(55)
    expect((await list('?limit=1')).body.runs.length).toBe(1)
    expect((await list('?limit=0')).status).toBe(400)
    expect((await list('?limit=101')).status).toBe(400)
    expect((await list('?limit=abc')).status).toBe(400)
    expect((await req('GET', `/api/agent-endpoints/${e.id}/runs`, { token: bob.token })).status).toBe(404)
  })

  test('test route: runs drafts too, status "test", caller_ip "dashboard", 10 per minute per user', async () => {
    const carol = await userWithWorkspace(env.t)
    const e = await createEndpoint(env.t, carol, { name: 'Tryout' }, false)
    env.llm.reply({ text: 'Agent response...' })
    const r = await req('POST', `/api/agent-endpoints/${e.id}/test`, { token: carol.token, body: { input: 'Your test input here' } })
    expect(r.status).toBe(200)
    expect(r.body.output).toBe('Agent response...')
    for (const f of ['tokens_input', 'tokens_output', 'cost_cents', 'latency_ms']) expect(typeof r.body.usage[f]).toBe('number')
    const run = (await req('GET', `/api/agent-endpoints/${e.id}/runs`, { token: carol.token })).body.runs[0]
    expect(run).toMatchObject({ status: 'test', caller_ip: 'dashboard', input: 'Your test input here', output: 'Agent response...' })
    expect((await req('POST', `/api/agent-endpoints/${e.id}/test`, { token: carol.token, body: {} })).status).toBe(400)
    expect((await req('POST', `/api/agent-endpoints/${e.id}/test`, { token: bob.token, body: { input: 'x' } })).status).toBe(404)
    for (let i = 1; i < 10; i++) expect((await req('POST', `/api/agent-endpoints/${e.id}/test`, { token: carol.token, body: { input: 'x' } })).status).toBe(200)
    const limited = await req('POST', `/api/agent-endpoints/${e.id}/test`, { token: carol.token, body: { input: 'x' } })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('x-ratelimit-limit')).toBe('10')
    expect(count(env.t, 'runs', 'source_id = ?', e.id)).toBe(10)
  })

  test('delete removes the endpoint with its run history', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Doomed' })
    await runReq(e.slug, { input: 'x' }, { 'x-api-key': e.key })
    expect(count(env.t, 'runs', 'source_id = ?', e.id)).toBe(1)
    expect((await req('DELETE', `/api/agent-endpoints/${e.id}`, { token: alice.token })).status).toBe(200)
    expect(count(env.t, 'runs', 'source_id = ?', e.id)).toBe(0)
    expect((await runReq(e.slug, { input: 'x' }, { 'x-api-key': e.key })).status).toBe(404)
  })
})

describe('group commit (hot-path writes)', () => {
  test('writes of one event-loop turn share a transaction; a failing one does not undo the others', async () => {
    const { GroupCommit } = await import('../src/db/group-commit')
    const db = env.t.k.db
    db.exec('CREATE TABLE IF NOT EXISTS gc_probe (v TEXT PRIMARY KEY)')
    const w = new GroupCommit(db)
    const ins = (v: string) => () => db.query('INSERT INTO gc_probe (v) VALUES (?)').run(v).changes
    const results = await Promise.allSettled([w.run(ins('a')), w.run(ins('a')), w.run(ins('b'))])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(db.query<{ v: string }, []>('SELECT v FROM gc_probe ORDER BY v').all().map((r) => r.v)).toEqual(['a', 'b'])
    expect(w.batches).toBe(1)
    expect(w.writes).toBe(3)
  })

  test('an endpoint deleted while its sync run was in flight: 404, nothing recorded', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Vanishing' })
    const n = env.llm.requests.length
    env.llm.reply({ text: 'late', delayMs: 300 })
    const pending = runReq(e.slug, { input: 'x' }, { 'x-api-key': e.key })
    await env.llm.waitForRequests(n + 1)
    expect((await req('DELETE', `/api/agent-endpoints/${e.id}`, { token: alice.token })).status).toBe(200)
    const r = await pending
    expect(r.status).toBe(404)
    expect(count(env.t, 'runs', 'source_id = ?', e.id)).toBe(0)
  })
})
