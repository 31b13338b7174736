// Issue 11 item 19: public agent endpoints and their run streams answer CORS; the authenticated API
// answers none unless origins are configured; credentials are never allowed (so never with `*`).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { epEnv, createEndpoint, userWithWorkspace, type EpEnv, type Who } from './endpoints-kit'
import { ConfigError, loadConfig } from '../src/config'

const PAGE = 'https://widget.example.org'
let env: EpEnv
let configured: EpEnv
let who: Who
let slug = ''
beforeAll(async () => {
  env = await epEnv()
  configured = await epEnv({ env: { AGENTBASE_CORS_ORIGINS: 'https://console.example.com', AGENTBASE_CORS_PUBLIC_ORIGINS: `${PAGE}` } })
  who = await userWithWorkspace(env.t)
  slug = (await createEndpoint(env.t, who, { auth_mode: 'public' })).slug
})
afterAll(() => { env.close(); configured.close() })

const preflight = (e: EpEnv, path: string, origin = PAGE, method = 'POST') =>
  e.t.app.handle(new Request(`http://localhost${path}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type' } }))

describe('public run surface (default: any origin, no credentials)', () => {
  test('preflight for POST /api/run/:slug allows the page, its headers, never credentials', async () => {
    const r = await preflight(env, `/api/run/${slug}`)
    expect(r.status).toBe(204)
    expect(r.headers.get('access-control-allow-origin')).toBe('*')
    expect(r.headers.get('access-control-allow-methods')).toContain('POST')
    expect(r.headers.get('access-control-allow-headers')!.toLowerCase()).toContain('content-type')
    expect(r.headers.get('access-control-allow-credentials')).toBeNull()
  })

  test('the run itself, its status and its event stream carry the CORS headers', async () => {
    const run = await env.t.req('POST', `/api/run/${slug}`, { body: { input: 'hi' }, headers: { origin: PAGE } })
    expect(run.status).toBe(200)
    expect(run.headers.get('access-control-allow-origin')).toBe('*')
    expect(run.headers.get('access-control-expose-headers')).toContain('X-Request-Id')
    expect(run.headers.get('access-control-allow-credentials')).toBeNull()
    const ep = await createEndpoint(env.t, who, { auth_mode: 'public', async_mode: true })
    const queued = await env.t.req('POST', `/api/run/${ep.slug}`, { body: { input: 'later' }, headers: { origin: PAGE } })
    expect(queued.status).toBe(202)
    for (const url of [queued.body.status_url, queued.body.events_url]) {
      expect((await preflight(env, new URL(url, 'http://x').pathname, PAGE, 'GET')).headers.get('access-control-allow-origin')).toBe('*')
    }
    const status = await env.t.req('GET', queued.body.status_url, { headers: { origin: PAGE } })
    expect(status.headers.get('access-control-allow-origin')).toBe('*')
    // EventSource sends no preflight: the stream itself must carry the header.
    const ac = new AbortController()
    const events = await env.t.app.handle(new Request(`http://localhost${queued.body.events_url}`, { headers: { origin: PAGE }, signal: ac.signal }))
    expect(events.headers.get('content-type')).toContain('text/event-stream')
    expect(events.headers.get('access-control-allow-origin')).toBe('*')
    ac.abort()
    await events.body?.cancel().catch(() => {})
    const streaming = await createEndpoint(env.t, who, { auth_mode: 'public', enable_streaming: true })
    const sse = await env.t.req('POST', `/api/run/${streaming.slug}`, { body: { input: 'stream' }, headers: { origin: PAGE } })
    expect(sse.headers.get('content-type')).toContain('text/event-stream')
    expect(sse.headers.get('access-control-allow-origin')).toBe('*')
    // Errors too, so the page can read why.
    const missing = await env.t.req('POST', '/api/run/no-such-endpoint', { body: { input: 'x' }, headers: { origin: PAGE } })
    expect(missing.status).toBe(404)
    expect(missing.headers.get('access-control-allow-origin')).toBe('*')
  })
})

describe('authenticated API (default: no CORS)', () => {
  test('no CORS headers on preflight or response by default', async () => {
    const p = await preflight(env, '/api/workspaces')
    expect(p.headers.get('access-control-allow-origin')).toBeNull()
    const r = await env.t.req('GET', '/api/workspaces', { token: who.token, headers: { origin: PAGE } })
    expect(r.status).toBe(200)
    expect(r.headers.get('access-control-allow-origin')).toBeNull()
  })

  test('configured origins: the listed one is echoed (Vary: Origin), others get nothing; never credentials', async () => {
    const ok = await preflight(configured, '/api/workspaces', 'https://console.example.com')
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://console.example.com')
    expect(ok.headers.get('vary')).toContain('Origin')
    expect(ok.headers.get('access-control-allow-credentials')).toBeNull()
    expect((await preflight(configured, '/api/workspaces', PAGE)).headers.get('access-control-allow-origin')).toBeNull()
    // The public surface follows its own list.
    expect((await preflight(configured, `/api/run/x`, PAGE)).headers.get('access-control-allow-origin')).toBe(PAGE)
    expect((await preflight(configured, `/api/run/x`, 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull()
  })

  test('a malformed origin stops start-up', () => {
    expect(() => loadConfig({ AGENTBASE_CORS_ORIGINS: 'console.example.com' })).toThrow(ConfigError)
    expect(() => loadConfig({ AGENTBASE_CORS_PUBLIC_ORIGINS: 'https://x.example/path' })).toThrow(/AGENTBASE_CORS_PUBLIC_ORIGINS must be \* or a comma-separated list of origins/)
  })
})
