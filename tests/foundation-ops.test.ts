// Operations and docs: /health, /metrics (route templates, optional bearer), /swagger (local assets),
// /swagger/json (every route with schemas, tags, bearer security).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { afterResponses, testApp } from './helpers'
import { ManualClock } from '../src/clock'

const clock = new ManualClock()
const t = testApp({ clock })
const locked = testApp({ env: { AGENTBASE_METRICS_TOKEN: 'metrics-secret-123' } })
let jwt = ''
beforeAll(async () => { jwt = (await t.user()).token })
afterAll(() => { t.close(); locked.close() })

describe('/health', () => {
  test('reports database, version and uptime', async () => {
    const a = await t.req('GET', '/health')
    expect(a.status).toBe(200)
    expect(a.body).toEqual({ status: 'ok', database: 'ok', version: t.k.version, uptime_s: expect.any(Number) })
    clock.advance(90_000)
    expect((await t.req('GET', '/health')).body.uptime_s).toBe(a.body.uptime_s + 90)
  })
  test('answers 503 when the database is unreachable', async () => {
    const u = testApp()
    u.k.db.close()
    const r = await u.req('GET', '/health')
    expect(r.status).toBe(503)
    expect(r.body).toMatchObject({ status: 'degraded', database: 'unreachable' })
    u.close()
  })
})

describe('/metrics', () => {
  test('Prometheus text with route templates (never raw ids), statuses, latency histogram and SSE gauge', async () => {
    await t.req('GET', '/api/workspaces/ws_secretRawId12345', { token: jwt })
    await t.req('GET', '/api/workspaces/ws_otherRawId678901', { token: jwt })
    await t.req('GET', '/api/nope/usr_rawIdInUnknownRoute')
    await afterResponses()
    const r = await t.req('GET', '/metrics')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toStartWith('text/plain; version=0.0.4')
    const text = r.text
    expect(text).toContain('agentbase_http_requests_total{method="GET",route="/api/workspaces/:id",status="404"} 2')
    expect(text).toContain('agentbase_http_requests_total{method="POST",route="/api/auth/login",status="200"} 1')
    expect(text).toMatch(/agentbase_http_request_duration_seconds_bucket\{method="GET",route="\/api\/workspaces\/:id",le="\+Inf"\} 2/)
    expect(text).toMatch(/agentbase_http_request_duration_seconds_count\{method="GET",route="\/api\/workspaces\/:id"\} 2/)
    expect(text).toContain('agentbase_sse_streams_open 0')
    expect(text).not.toContain('RawId')
    expect(text).toMatch(/route="unmatched",status="404"/)
  })
  test('domains add gauges', async () => {
    t.k.metrics.gauge('agentbase_test_queue_depth', () => 7)
    expect((await t.req('GET', '/metrics')).text).toContain('agentbase_test_queue_depth 7')
  })

  const cases: Array<{ name: string; headers: Record<string, string>; status: number }> = [
    { name: 'no credentials', headers: {}, status: 401 },
    { name: 'a wrong token', headers: { authorization: 'Bearer nope' }, status: 401 },
    { name: 'the token without Bearer', headers: { authorization: 'metrics-secret-123' }, status: 401 },
    { name: 'the right token', headers: { authorization: 'Bearer metrics-secret-123' }, status: 200 },
  ]
  for (const c of cases) {
    test(`with AGENTBASE_METRICS_TOKEN set: ${c.name} -> ${c.status}`, async () => {
      const r = await locked.req('GET', '/metrics', { headers: c.headers })
      expect(r.status).toBe(c.status)
      if (c.status === 401) expect(r.body.error).toMatch(/AGENTBASE_METRICS_TOKEN/)
      else expect(r.text).toContain('agentbase_http_requests_total')
    })
  }
})

describe('/swagger', () => {
  test('the HTML page references only local assets, and each loads from the binary', async () => {
    const page = await t.req('GET', '/swagger')
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toStartWith('text/html')
    const refs = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])
    expect(refs.length).toBeGreaterThanOrEqual(3)
    expect(page.text).not.toMatch(/https?:\/\//)
    expect(page.text).toContain("url: '/swagger/json'")
    const types: Record<string, string> = { js: 'application/javascript', css: 'text/css' }
    for (const ref of refs) {
      expect(ref).toStartWith('/swagger/assets/')
      const r = await t.app.handle(new Request(`http://localhost${ref}`))
      expect(r.status).toBe(200)
      expect(r.headers.get('content-type')).toStartWith(types[ref.split('.').pop()!])
      expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(10_000)
    }
  })
  test('an unknown asset is a JSON 404', async () => {
    const r = await t.req('GET', '/swagger/assets/../../etc/passwd')
    expect(r.status).toBe(404)
    expect(typeof r.body.error).toBe('string')
    const r2 = await t.req('GET', '/swagger/assets/nope.js')
    expect(r2.status).toBe(404)
    expect(r2.body.error).toBe('No such asset')
  })
})

describe('/swagger/json', () => {
  let doc: any
  beforeAll(async () => { doc = (await t.req('GET', '/swagger/json')).body })

  test('OpenAPI 3 with the bearer security scheme and our title', () => {
    expect(doc.openapi).toStartWith('3.')
    expect(doc.info).toMatchObject({ title: 'Agentbase API', version: t.k.version })
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' })
  })

  test('every route is present with a summary, a tag, response schemas, and its body and parameter schemas', () => {
    const problems: string[] = []
    const routes = (t.app.routes as Array<{ method: string; path: string; hooks: any }>).filter((r) => !r.path.startsWith('/swagger') && r.hooks?.detail?.hide !== true)
    expect(routes.length).toBeGreaterThanOrEqual(15)
    for (const r of routes) {
      const path = r.path.replace(/:(\w+)/g, '{$1}')
      const op = doc.paths[path]?.[r.method.toLowerCase()]
      const name = `${r.method} ${r.path}`
      if (!op) { problems.push(`${name}: missing`); continue }
      if (!op.summary) problems.push(`${name}: no summary`)
      if (!op.tags?.length) problems.push(`${name}: no tag`)
      const ok = Object.entries<any>(op.responses ?? {}).find(([code]) => code.startsWith('2'))
      if (!ok || !ok[1].content || !Object.values<any>(ok[1].content)[0]?.schema) problems.push(`${name}: no 2xx response schema`)
      if (r.hooks.body && !op.requestBody?.content?.['application/json']?.schema) problems.push(`${name}: body schema not documented`)
      for (const p of path.match(/\{(\w+)\}/g) ?? []) {
        if (!op.parameters?.some((x: any) => x.in === 'path' && `{${x.name}}` === p)) problems.push(`${name}: path parameter ${p} not documented`)
      }
    }
    expect(problems).toEqual([])
  })

  test('a tag per domain, and guarded routes carry the bearer requirement', () => {
    const tagsOf = (path: string, method: string) => doc.paths[path][method].tags
    expect(tagsOf('/api/auth/login', 'post')).toEqual(['Auth'])
    expect(tagsOf('/api/tokens', 'post')).toEqual(['API tokens'])
    expect(tagsOf('/api/workspaces/{id}', 'get')).toEqual(['Workspaces'])
    expect(tagsOf('/api/wallet', 'get')).toEqual(['Wallet'])
    expect(tagsOf('/api/admin/users', 'get')).toEqual(['Admin'])
    expect(tagsOf('/health', 'get')).toEqual(['Operations'])
    const declared = doc.tags.map((x: { name: string }) => x.name)
    for (const tag of ['Auth', 'API tokens', 'Workspaces', 'Wallet', 'Admin', 'Operations']) expect(declared).toContain(tag)
    expect(doc.paths['/api/workspaces'].post.security).toEqual([{ bearer: [] }])
    expect(doc.paths['/api/auth/me'].get.security).toEqual([{ bearer: [] }])
    // Public routes say so explicitly (an empty requirement list), as OpenAPI linters ask.
    expect(doc.paths['/api/auth/login'].post.security).toEqual([])
    expect(doc.paths['/health'].get.security).toEqual([])
    expect(doc.paths['/api/auth/register'].post.security).toEqual([{}, { bearer: [] }])
  })

  test('request schemas carry their constraints', () => {
    const s = doc.paths['/api/workspaces'].post.requestBody.content['application/json'].schema
    expect(s.required).toEqual(['name'])
    expect(s.properties.name).toMatchObject({ type: 'string', minLength: 1, maxLength: 100 })
    const tok = doc.paths['/api/tokens'].post.requestBody.content['application/json'].schema
    expect(tok.properties.type.anyOf.map((x: { const: string }) => x.const)).toEqual(['personal', 'workspace', 'admin'])
  })
})
