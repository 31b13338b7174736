// HTTP conventions (DESIGN §5): the { error } format for every bad input, body limits while reading,
// request ids, JSON access log lines, rate-limit headers, and authentication before validation.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { afterResponses, tableCounts, testApp, type ReqOptions } from './helpers'
import { createLogger } from '../src/log'
import { httpCore } from '../src/http/core'
import { serve } from '../src/serve'

const lines: string[] = []
const t = testApp({ log: createLogger('info', (l) => lines.push(l)) })
let alice: { token: string; id: string }
beforeAll(async () => { alice = await t.user() })
afterAll(() => t.close())

const MB = 1024 * 1024
const json = { 'content-type': 'application/json' }
const chunks = (n: number, size: number) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < n; i++) c.enqueue(new TextEncoder().encode('x'.repeat(size)))
      c.close()
    },
  })

interface Scenario {
  name: string
  method: string
  path: string
  /** Send alice's JWT. */
  auth?: boolean
  opts?: () => ReqOptions
  status: number
  error: RegExp
  code?: string
  details?: Record<string, RegExp>
}

const cases: Scenario[] = [
  { name: 'malformed JSON', method: 'POST', path: '/api/workspaces', auth: true, opts: () => ({ raw: '{"name": ', headers: json }), status: 400, code: 'invalid_json', error: /not valid JSON/ },
  { name: 'empty JSON body', method: 'POST', path: '/api/workspaces', auth: true, opts: () => ({ raw: '', headers: json }), status: 400, error: /^Request body is required$/, details: { body: /required/ } },
  { name: 'no body at all', method: 'POST', path: '/api/workspaces', auth: true, status: 400, error: /^Request body is required$/ },
  { name: 'JSON array instead of an object', method: 'POST', path: '/api/workspaces', auth: true, opts: () => ({ body: [1, 2] }), status: 400, error: /name is required/i },
  { name: 'wrong content type (XML)', method: 'POST', path: '/api/workspaces', auth: true, opts: () => ({ raw: '<w/>', headers: { 'content-type': 'application/xml' } }), status: 415, code: 'unsupported_media_type', error: /application\/json/ },
  { name: 'JSON sent as text/plain', method: 'POST', path: '/api/workspaces', auth: true, opts: () => ({ raw: '{"name":"x"}', headers: { 'content-type': 'text/plain' } }), status: 415, code: 'unsupported_media_type', error: /JSON/ },
  { name: 'multipart form', method: 'POST', path: '/api/workspaces', auth: true, opts: () => ({ raw: '--b\r\n\r\n--b--', headers: { 'content-type': 'multipart/form-data; boundary=b' } }), status: 415, code: 'unsupported_media_type', error: /multipart\/form-data/ },
  { name: 'missing field', method: 'POST', path: '/api/workspaces', auth: true, opts: () => ({ body: {} }), status: 400, code: 'validation_failed', error: /^Name is required$/, details: { name: /required/ } },
  { name: 'mistyped field', method: 'POST', path: '/api/workspaces', auth: true, opts: () => ({ body: { name: 5 } }), status: 400, error: /^Name must be a string$/, details: { name: /string/ } },
  { name: 'empty string', method: 'POST', path: '/api/workspaces', auth: true, opts: () => ({ body: { name: '' } }), status: 400, error: /name must not be empty/i },
  { name: 'string too long', method: 'POST', path: '/api/workspaces', auth: true, opts: () => ({ body: { name: 'x'.repeat(101) } }), status: 400, error: /name must be at most 100 characters/i },
  { name: 'nullable field mistyped', method: 'POST', path: '/api/workspaces', auth: true, opts: () => ({ body: { name: 'a', description: 7 } }), status: 400, error: /description must be a string or null/i },
  { name: 'register: missing password', method: 'POST', path: '/api/auth/register', opts: () => ({ body: { email: 'x@example.com' } }), status: 400, error: /password is required/i, details: { password: /required/ } },
  { name: 'register: mistyped email', method: 'POST', path: '/api/auth/register', opts: () => ({ body: { email: 5, password: 'long-enough-pw' } }), status: 400, error: /email must be a string/i },
  { name: 'register: invalid email', method: 'POST', path: '/api/auth/register', opts: () => ({ body: { email: 'nope', password: 'long-enough-pw' } }), status: 400, error: /email must be a valid email/i },
  { name: 'register: short password', method: 'POST', path: '/api/auth/register', opts: () => ({ body: { email: 'y@example.com', password: 'short' } }), status: 400, error: /password must be at least 8 characters/i },
  { name: 'login: mistyped password', method: 'POST', path: '/api/auth/login', opts: () => ({ body: { email: 'y@example.com', password: true } }), status: 400, error: /password must be a string/i },
  { name: 'token: bad enum', method: 'POST', path: '/api/tokens', auth: true, opts: () => ({ body: { name: 'x', type: 'root' } }), status: 400, error: /type must be one of "personal", "workspace", "admin"/i },
  { name: 'token: unknown scope', method: 'POST', path: '/api/tokens', auth: true, opts: () => ({ body: { name: 'x', scopes: ['bots.fly'] } }), status: 400, error: /Unknown scope "bots.fly"/, details: { scopes: /unknown/ } },
  { name: 'query: not a number', method: 'GET', path: '/api/wallet?limit=abc', auth: true, status: 400, error: /^Query parameter limit must be an integer$/ },
  { name: 'query: out of range', method: 'GET', path: '/api/wallet?limit=0', auth: true, status: 400, error: /limit must be at least 1/ },
  { name: 'oversized body (content-length)', method: 'POST', path: '/api/workspaces', auth: true, opts: () => ({ raw: 'x'.repeat(MB + 1), headers: json }), status: 413, code: 'body_too_large', error: /too large \(max 1MB\)/ },
  { name: 'oversized streamed body (no content-length)', method: 'POST', path: '/api/workspaces', auth: true, opts: () => ({ raw: chunks(12, 100_000), headers: json }), status: 413, code: 'body_too_large', error: /too large/ },
  // Who is calling comes first (issue 11 item 14): a stranger's body is never read, whatever its size.
  { name: 'oversized body before authentication', method: 'POST', path: '/api/workspaces', opts: () => ({ raw: chunks(12, 100_000), headers: json }), status: 401, error: /Authentication required/ },
  { name: 'unknown route', method: 'GET', path: '/api/nope', status: 404, code: 'route_not_found', error: /^No route for GET \/api\/nope$/ },
  { name: 'unknown method on a known path', method: 'DELETE', path: '/api/auth/me', auth: true, status: 404, error: /No route for DELETE/ },
  { name: 'case variant of a protected path', method: 'GET', path: '/API/workspaces', status: 404, error: /No route/ },
  { name: 'double slash variant', method: 'GET', path: '/api//workspaces', status: 404, error: /No route/ },
  { name: 'percent-encoded variant', method: 'GET', path: '/api/%77orkspaces', status: 404, error: /No route/ },
  { name: 'trailing slash still needs auth', method: 'GET', path: '/api/workspaces/', status: 401, error: /Authentication required/ },
  { name: 'no credentials', method: 'GET', path: '/api/workspaces', status: 401, code: 'unauthorized', error: /Bearer/ },
  { name: 'malformed Authorization header', method: 'GET', path: '/api/workspaces', opts: () => ({ headers: { authorization: 'Token abc' } }), status: 401, error: /must be "Bearer <token>"/ },
  { name: 'garbage bearer token', method: 'GET', path: '/api/workspaces', opts: () => ({ token: 'not-a-jwt' }), status: 401, code: 'invalid_token', error: /Invalid or expired token/ },
  { name: 'unknown API token', method: 'GET', path: '/api/workspaces', opts: () => ({ token: 'ab_pat_' + 'A'.repeat(40) }), status: 401, code: 'invalid_token', error: /Invalid API token/ },
]

describe('bad input gets a clear { error }, the right status, and writes nothing', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const before = tableCounts(t.k)
      const o = c.opts?.() ?? {}
      if (c.auth) o.token = alice.token
      const r = await t.req(c.method, c.path, o)
      expect(r.status).toBe(c.status)
      expect(r.headers.get('content-type')).toContain('application/json')
      expect(typeof r.body.error).toBe('string')
      expect(r.body.error).toMatch(c.error)
      expect(typeof r.body.code).toBe('string')
      if (c.code) expect(r.body.code).toBe(c.code)
      for (const [f, re] of Object.entries(c.details ?? {})) expect(r.body.details?.[f]).toMatch(re)
      expect(r.text).not.toMatch(/\bat .*\.ts:\d+|stack/i)
      expect(tableCounts(t.k)).toEqual(before)
    })
  }
})

test('a 500 hides its cause, names the request id and logs the stack', async () => {
  const logged: string[] = []
  const k = { ...t.k, log: createLogger('info', (l) => logged.push(l)) }
  const app = new Elysia().use(httpCore(k)).get('/boom', () => { throw new Error('secret internal detail') })
  const res = await app.handle(new Request('http://localhost/boom', { headers: { 'x-request-id': 'boom-1' } }))
  expect(res.status).toBe(500)
  const body = await res.json()
  expect(body).toEqual({ error: 'Internal error (request boom-1)', code: 'internal_error' })
  expect(res.headers.get('x-request-id')).toBe('boom-1')
  const line = logged.map((l) => JSON.parse(l)).find((l) => l.msg === 'unhandled error')
  expect(line.request_id).toBe('boom-1')
  expect(line.error).toBe('secret internal detail')
  expect(line.stack).toContain('secret internal detail')
})

test('every bearer-guarded route answers 401 before validating body, query or params', async () => {
  const doc = (await t.req('GET', '/swagger/json')).body
  let checked = 0
  const problems: string[] = []
  for (const [path, ops] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(ops)) {
      const sec = op.security ?? []
      if (!sec.length || sec.some((s: object) => Object.keys(s).length === 0)) continue // public or optional auth
      const url = path.replace(/\{[^}]+\}/g, 'x') + '?limit=abc&zzz=1'
      const hasBody = !['get', 'head', 'delete'].includes(method)
      const r = await t.req(method.toUpperCase(), url, hasBody ? { body: { zzz: [1], name: 5, email: false } } : {})
      // The OpenAI-compatible routes answer in OpenAI's error shape ({ error: { message, type, code } }).
      const message = typeof r.body.error === 'string' ? r.body.error : r.body.error?.message
      if (r.status !== 401 || !/Authentication required/.test(message)) problems.push(`${method.toUpperCase()} ${path}: ${r.status} ${r.text}`)
      checked++
    }
  }
  // A route-level `transform` runs before the macro's: it must not inspect the body (use the schema instead).
  expect(problems).toEqual([])
  expect(checked).toBeGreaterThanOrEqual(10)
})

describe('request ids', () => {
  const cases = [
    { name: 'a valid X-Request-Id is echoed', given: 'abc-123_X:y.z', echoed: true },
    { name: 'an id with spaces is replaced', given: 'bad id', echoed: false },
    { name: 'an overlong id is replaced', given: 'a'.repeat(200), echoed: false },
    { name: 'a missing id is minted', given: undefined, echoed: false },
  ]
  for (const c of cases) {
    for (const path of ['/health', '/api/nope']) {
      test(`${c.name} (${path})`, async () => {
        const r = await t.req('GET', path, { headers: c.given ? { 'x-request-id': c.given } : {} })
        const id = r.headers.get('x-request-id')
        if (c.echoed) expect(id).toBe(c.given!)
        else expect(id).toMatch(/^req_[A-Za-z0-9_-]{16}$/)
      })
    }
  }

  test('two requests get different minted ids', async () => {
    const a = await t.req('GET', '/health'), b = await t.req('GET', '/health')
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'))
  })
})

test('each request writes one JSON access log line with its id, route template, status and latency', async () => {
  const id = `log-${Math.random().toString(36).slice(2)}`
  const r = await t.req('GET', '/api/workspaces/ws_secretid123', { token: alice.token, headers: { 'x-request-id': id } })
  expect(r.status).toBe(404)
  await afterResponses()
  const entry = lines.map((l) => JSON.parse(l)).find((l) => l.request_id === id)
  expect(entry).toMatchObject({ level: 'info', msg: 'request', method: 'GET', route: '/api/workspaces/:id', status: 404 })
  expect(typeof entry.ms).toBe('number')
  expect(Date.parse(entry.time)).not.toBeNaN()
  for (const l of lines) expect(l).not.toContain(alice.token)
})

test('rate-limit headers ride on every authenticated response, errors included', async () => {
  for (const [method, path, opts, status] of [
    ['GET', '/api/workspaces', {}, 200],
    ['GET', '/api/workspaces/ws_missing', {}, 404],
    ['POST', '/api/workspaces', { body: { name: 5 } }, 400],
  ] as const) {
    const r = await t.req(method, path, { ...opts, token: alice.token })
    expect(r.status).toBe(status)
    expect(r.headers.get('x-ratelimit-limit')).toBe('1200')
    expect(Number(r.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(0)
    expect(Number(r.headers.get('x-ratelimit-reset'))).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000))
  }
})

test('over a real socket, a chunked body past the limit is refused with 413 while reading', async () => {
  const s = serve(t.k, { port: 0, host: '127.0.0.1' })
  try {
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent >= 16 * MB) return c.close()
        sent += 64 * 1024
        c.enqueue(new Uint8Array(64 * 1024).fill(120))
      },
    })
    const res = await fetch(`${s.url}/api/workspaces`, { method: 'POST', body, headers: { ...json, authorization: `Bearer ${alice.token}` }, duplex: 'half' } as RequestInit)
    expect(res.status).toBe(413)
    expect((await res.json()).error).toMatch(/too large/)
    expect(res.headers.get('content-length')).not.toBeNull()
    // The server stopped reading well before the client's 16 MB were sent.
    expect(sent).toBeLessThan(16 * MB)
    const ok = await fetch(`${s.url}/api/workspaces`, { method: 'POST', body: JSON.stringify({ name: 'after' }), headers: { ...json, authorization: `Bearer ${alice.token}` } })
    expect(ok.status).toBe(201)
  } finally {
    s.server.stop(true)
  }
})
