// Issue 11 items 13 and 14: JSON depth bounded at parse time on every entry point (400 naming the limit,
// no error-level log); JSON routes refuse form/text bodies (415); authentication before the body (401
// first); a declared body over any limit gets our JSON 413, never Bun's empty one.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { epEnv, createEndpoint, userWithWorkspace, type EpEnv, type Who } from './endpoints-kit'
import { createLogger } from '../src/log'
import { serve } from '../src/serve'
import { MAX_JSON_DEPTH } from '../src/http/json'

const errors: string[] = []
let env: EpEnv
let who: Who
let publicSlug = ''
let customBot = ''
beforeAll(async () => {
  env = await epEnv({ env: { LOG_LEVEL: 'error' } })
  ;(env.t.k as any).log = createLogger('error', (l) => errors.push(l))
  who = await userWithWorkspace(env.t)
  publicSlug = (await createEndpoint(env.t, who, { auth_mode: 'public' })).slug
  const bot = await env.t.req('POST', '/api/bots', { token: who.token, body: { name: 'c', platform: 'custom', workspace_id: who.ws, system_prompt: 'x', llm_provider: 'openai', llm_model: 'gpt-4o-mini' } })
  customBot = bot.body.bot.id
  await env.t.req('POST', `/api/bots/${customBot}/activate`, { token: who.token })
})
afterAll(() => env.close())

const nest = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)

describe('JSON nesting depth', () => {
  const entries = () => [
    { name: 'custom webhook (unauthenticated)', path: `/api/bots/webhook/custom/${customBot}`, body: (v: string) => `{"text":"hi","channel_id":"c","user_name":${v}}` },
    { name: 'public run (unauthenticated)', path: `/api/run/${publicSlug}`, body: (v: string) => `{"input":${v}}` },
    { name: 'bot workflow_json', path: '/api/bots', token: true, body: (v: string) => `{"name":"b","platform":"custom","workspace_id":"${who.ws}","system_prompt":"x","workflow_json":${v}}` },
    { name: 'endpoint output_schema', path: '/api/agent-endpoints', token: true, body: (v: string) => `{"name":"e","workspace_id":"${who.ws}","system_prompt":"x","output_format":"json","output_schema":${v}}` },
    { name: 'telegram webhook', path: `/api/bots/webhook/telegram/${customBot}`, body: (v: string) => `{"update_id":1,"message":${v}}` },
  ]
  for (const depth of [MAX_JSON_DEPTH + 1, 100_000]) {
    test(`depth ${depth}: 400 naming the limit on every entry point, nothing logged as an error`, async () => {
      for (const e of entries()) {
        const r = await env.t.req('POST', e.path, { raw: e.body(depth % 2 ? nest(depth) : deepArray(depth)), headers: { 'content-type': 'application/json' }, token: e.token ? who.token : undefined })
        expect({ entry: e.name, status: r.status, code: r.body.code }).toEqual({ entry: e.name, status: 400, code: 'json_too_deep' })
        expect(r.body.error).toBe(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`)
      }
      expect(errors).toEqual([])
    })
  }
  test('nesting at the limit still parses (strings with brackets do not count)', async () => {
    const r = await env.t.req('POST', '/api/bots', { token: who.token, raw: `{"name":"ok","platform":"custom","workspace_id":"${who.ws}","system_prompt":"[[[[{{{{","workflow_json":${nest(MAX_JSON_DEPTH - 1)}}`, headers: { 'content-type': 'application/json' } })
    expect(r.body.code).not.toBe('json_too_deep')
  })
})

describe('body rules', () => {
  test('form-urlencoded and text on a JSON route: 415 before validation; nothing written', async () => {
    for (const [type, raw] of [['application/x-www-form-urlencoded', 'name=formed'], ['text/plain', '{"name":"x"}']]) {
      const r = await env.t.req('POST', '/api/workspaces', { token: who.token, raw, headers: { 'content-type': type } })
      expect(r.status).toBe(415)
      expect(r.body.code).toBe('unsupported_media_type')
      expect(r.body.error).toContain('application/json')
    }
    const list = await env.t.req('GET', '/api/workspaces', { token: who.token })
    expect(list.body.workspaces.map((w: any) => w.name)).not.toContain('formed')
  })

  test('authentication comes before the body: no credentials + bad body -> 401, not 400/413/415', async () => {
    const cases: Array<{ raw: string; type: string }> = [
      { raw: '{"name": ', type: 'application/json' },
      { raw: nest(1000), type: 'application/json' },
      { raw: 'x'.repeat(2 * 1024 * 1024), type: 'application/json' },
      { raw: 'name=x', type: 'application/x-www-form-urlencoded' },
    ]
    for (const c of cases) {
      const r = await env.t.req('POST', '/api/workspaces', { raw: c.raw, headers: { 'content-type': c.type } })
      expect(r.status).toBe(401)
      const bad = await env.t.req('POST', '/api/workspaces', { raw: c.raw, headers: { 'content-type': c.type, authorization: 'Bearer ab_pat_nope' } })
      expect(bad.status).toBe(401)
    }
    // A key-only endpoint: its key is checked before the body is read.
    const keyed = await createEndpoint(env.t, who)
    const r = await env.t.req('POST', `/api/run/${keyed.slug}`, { raw: nest(1000), headers: { 'content-type': 'application/json' } })
    expect(r.status).toBe(401)
  })

  test('a declared body over 8 MiB on a real socket: our JSON 413 naming the limit', async () => {
    const s = serve(env.t.k, { port: 0, host: '127.0.0.1' })
    try {
      const port = Number(s.server.port)
      for (const path of ['/api/workspaces', `/api/run/${publicSlug}`]) {
        let got = ''
        let done!: () => void
        const closed = new Promise<void>((r) => (done = r))
        const sock = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data(_s, d) { got += Buffer.from(d).toString() }, close() { done() }, error() { done() } } })
        sock.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${who.token}\r\nContent-Type: application/json\r\nContent-Length: ${9 * 1024 * 1024}\r\nConnection: close\r\n\r\n{"a":`)
        sock.flush()
        await Promise.race([closed, Bun.sleep(5000)])
        sock.end()
        expect(got).toStartWith('HTTP/1.1 413')
        expect(got).toMatch(/\{"error":"Request body too large \(max \d+MB\)","code":"body_too_large"\}/)
      }
    } finally {
      s.server.stop(true)
    }
  })
})

describe('model output is JSON entering too', () => {
  test('a structured answer nested past the limit is refused as invalid, not recursed on', async () => {
    const { parseJsonAnswer } = await import('../src/agent/schema')
    const r = parseJsonAnswer(nest(100_000))
    expect(r).toEqual({ ok: false, error: `the answer nests JSON deeper than ${MAX_JSON_DEPTH} levels` })
    expect(parseJsonAnswer(nest(3))).toEqual({ ok: true, value: { a: { a: { a: 1 } } } })
  })

  test('tool-call arguments and stream data from a provider are bounded the same way', async () => {
    const { parseArguments, parseData } = await import('../src/llm/http')
    expect(parseArguments(nest(100_000))).toEqual({ args: {}, error: `arguments nest JSON deeper than ${MAX_JSON_DEPTH} levels` })
    expect(parseArguments('{"city":"Paris"}')).toEqual({ args: { city: 'Paris' } })
    let err: any
    try { parseData('openai', `{"choices":${deepArray(100_000)}}`) } catch (e) { err = e }
    expect({ status: err?.status, code: err?.code }).toEqual({ status: 502, code: 'llm_stream_malformed' })
    expect(err.message).toContain(`deeper than ${MAX_JSON_DEPTH} levels`)
  })

  test('a provider answering deeply nested JSON fails the run as malformed, logged at no error level', async () => {
    const deepServer = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response(`{"choices":[{"message":${nest(100_000)}}]}`, { headers: { 'content-type': 'application/json' } }) })
    try {
      const ep = await createEndpoint(env.t, who, { llm_base_url: `http://127.0.0.1:${deepServer.port}/v1`, llm_api_key: 'sk-user-own-key' })
      const r = await env.t.req('POST', `/api/run/${ep.slug}`, { headers: { 'x-api-key': ep.key }, body: { input: 'hi' } })
      expect(r.status).toBe(502)
      expect(r.body.error).toContain(`deeper than ${MAX_JSON_DEPTH} levels`)
      expect(errors).toEqual([])
    } finally {
      deepServer.stop(true)
    }
  })
})
