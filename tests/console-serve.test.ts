// The console as served (no browser): the page, its headers and assets, the bundle's size and contents, and
// the two API routes it added: GET /api/auth/session (sign-in / first run) and GET /api/admin/system (Overview).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { gzipSync } from 'node:zlib'
import { join } from 'node:path'
import { ManualClock } from '../src/clock'
import { testApp } from './helpers'
import { createEndpoint, epEnv, userWithWorkspace, type EpEnv } from './endpoints-kit'

const ROOT = join(import.meta.dir, '..')

describe('GET / and its assets', () => {
  const t = testApp()
  afterAll(() => t.close())

  test('the page: strict CSP, never framed, no inline script, nothing from another origin', async () => {
    const r = await t.req('GET', '/')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const csp = r.headers.get('content-security-policy')!
    expect(csp).toContain("default-src 'self'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).not.toContain('unsafe-eval')
    expect(r.headers.get('x-frame-options')).toBe('DENY')
    expect(r.headers.get('x-content-type-options')).toBe('nosniff')
    // Every script is a file of ours; no inline code, no absolute URL anywhere in the page.
    const scripts = [...r.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts.length).toBe(1)
    for (const [, attrs, body] of scripts) {
      expect(attrs).toContain('src="/assets/console.js"')
      expect(body.trim()).toBe('')
    }
    expect(r.text).not.toMatch(/https?:\/\//)
    // The one inline stylesheet is allowed by its hash, not by 'unsafe-inline'.
    const style = /<style>([\s\S]*?)<\/style>/.exec(r.text)![1]
    const hash = new Bun.CryptoHasher('sha256').update(style).digest('base64')
    expect(csp).toContain(`style-src 'self' 'sha256-${hash}'`)
    expect(r.text).not.toMatch(/\sstyle=/)
  })

  test('the script is served from the embedded bundle', async () => {
    const r = await t.req('GET', '/assets/console.js')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('application/javascript; charset=utf-8')
    expect(r.headers.get('content-security-policy')).toContain("default-src 'self'")
    expect(r.text.length).toBeGreaterThan(1000)
  })

  test('the JavaScript is under 100 KB gzipped, builds no code from strings and fetches nothing absolute', async () => {
    const js = (await t.req('GET', '/assets/console.js')).text
    expect(gzipSync(js).length).toBeLessThan(100 * 1024)
    expect(js).not.toMatch(/new Function\s*\(|\beval\s*\(/)
    expect(js).not.toMatch(/fetch\(\s*["'`]https?:/)
    expect(js).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\.[a-z]{2,}\//i)
  })

  test('the API documents the two routes the console added', async () => {
    const doc = (await t.req('GET', '/swagger/json')).body
    expect(doc.paths['/api/auth/session'].get).toBeTruthy()
    expect(doc.paths['/api/admin/system'].get.security).toBeTruthy()
  })
})

describe('GET /api/auth/session', () => {
  const t = testApp()
  afterAll(() => t.close())

  test('first run, then signed out, then signed in by cookie or bearer', async () => {
    expect((await t.req('GET', '/api/auth/session')).body).toEqual({ user: null, setup_required: true, open_registration: true })
    const admin = await t.user('first@example.com')
    expect((await t.req('GET', '/api/auth/session')).body).toEqual({ user: null, setup_required: false, open_registration: true })
    const byBearer = await t.req('GET', '/api/auth/session', { token: admin.token })
    expect(byBearer.body.user).toMatchObject({ email: 'first@example.com', role: 'admin' })
    const login = await t.req('POST', '/api/auth/login', { body: { email: 'first@example.com', password: 'correct-horse-battery' } })
    const cookie = login.headers.get('set-cookie')!.split(';')[0]
    const byCookie = await t.req('GET', '/api/auth/session', { headers: { cookie, 'sec-fetch-site': 'same-origin' } })
    expect(byCookie.body.user.email).toBe('first@example.com')
    // A bad cookie is simply signed out (200), never an error the browser would log.
    const stale = await t.req('GET', '/api/auth/session', { headers: { cookie: `${cookie.split('=')[0]}=nope` } })
    expect(stale.status).toBe(200)
    expect(stale.body.user).toBeNull()
  })
})

describe('GET /api/admin/system', () => {
  const clock = new ManualClock()
  let env: EpEnv
  let adminToken = ''
  beforeAll(async () => {
    env = await epEnv({ clock, env: { OLLAMA_HOST: 'http://127.0.0.1:9' } })
    const admin = await env.t.user() // the first user is the admin
    // An admin API token: unlike the login JWT it outlives the 8 days the clock jumps below.
    adminToken = (await env.t.req('POST', '/api/tokens', { token: admin.token, body: { name: 'ops', type: 'admin' } })).body.key
  })
  afterAll(() => env.close())

  test('admins only', async () => {
    const { t } = env
    const other = await t.user()
    expect((await t.req('GET', '/api/admin/system')).status).toBe(401)
    expect((await t.req('GET', '/api/admin/system', { token: other.token })).status).toBe(403)
    expect((await t.req('GET', '/api/admin/system', { token: adminToken })).status).toBe(200)
  })

  test('version, uptime, database, queues, providers probed, and runs of the last 7 days against the 7 before', async () => {
    const { t, llm } = env
    const who = await userWithWorkspace(t)
    const token = adminToken
    const ep = await createEndpoint(t, who)
    llm.reply({ text: 'one' }, { status: 400, error: 'bad request from the model' })
    await t.req('POST', `/api/run/${ep.slug}`, { token: ep.key, body: { input: 'a' } })
    await t.req('POST', `/api/run/${ep.slug}`, { token: ep.key, body: { input: 'b' } })
    let r = await t.req('GET', '/api/admin/system', { token })
    expect(r.status).toBe(200)
    expect(r.body.version).toBe(t.k.version)
    expect(r.body.database.size_bytes).toBeGreaterThan(4096)
    expect(r.body.last_backup_at).toBeNull()
    expect(r.body.queues).toEqual({ runs_queued: 0, runs_running: 0, bot_inbox_pending: 0, webhook_deliveries_pending: 0, webhook_deliveries_failed: 0 })
    const byName = Object.fromEntries(r.body.providers.map((p: any) => [p.name, p]))
    expect(byName.openai).toMatchObject({ configured: true, reachable: true })
    expect(byName.ollama).toMatchObject({ configured: true, reachable: false })
    expect(byName.gemini).toMatchObject({ configured: false, reachable: null })
    expect(r.body.runs.last_7_days).toMatchObject({ runs: 2, failures: 1 })
    expect(r.body.runs.last_7_days.cost_cents).toBeGreaterThan(0)
    expect(r.body.runs.previous_7_days).toEqual({ runs: 0, failures: 0, cost_cents: 0 })
    clock.advance(8 * 86_400_000)
    r = await t.req('GET', '/api/admin/system', { token })
    expect(r.body.runs.last_7_days).toEqual({ runs: 0, failures: 0, cost_cents: 0 })
    expect(r.body.runs.previous_7_days).toMatchObject({ runs: 2, failures: 1 })
    expect(r.body.uptime_s).toBeGreaterThanOrEqual(8 * 86_400)
  })

  test('Ollama is probed on its own /api/version', async () => {
    const seen: string[] = []
    const ollama = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (req) => { seen.push(new URL(req.url).pathname); return Response.json({ version: '0.9.0' }) } })
    const u = testApp({ env: { OLLAMA_HOST: `http://127.0.0.1:${ollama.port}` } })
    try {
      const admin = await u.user()
      const r = await u.req('GET', '/api/admin/system', { token: admin.token })
      expect(r.body.providers.find((p: any) => p.name === 'ollama')).toMatchObject({ configured: true, reachable: true })
      expect(seen).toEqual(['/api/version'])
    } finally {
      u.close()
      ollama.stop(true)
    }
  })

  test('`agentbase backup` records when it ran', async () => {
    const { t } = env
    const target = join(t.dir, 'copy.db')
    const p = Bun.spawn([join(ROOT, 'node_modules/.bin/bun'), join(ROOT, 'src/main.ts'), 'backup', target], {
      cwd: ROOT, env: { ...process.env, AGENTBASE_DATA_DIR: t.dir, LOG_LEVEL: 'silent' }, stdout: 'ignore', stderr: 'pipe',
    })
    expect(await p.exited).toBe(0)
    const r = await t.req('GET', '/api/admin/system', { token: adminToken })
    expect(r.body.last_backup_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  })
})

describe('caching and compression', () => {
  const t = testApp()
  afterAll(() => t.close())

  test.each(['/', '/assets/console.js'])('%s: gzip when accepted, 304 for the same version', async (path) => {
    const plain = await t.req('GET', path)
    const etag = plain.headers.get('etag')!
    expect(etag).toMatch(/^"[\w-]+"$/)
    expect(plain.headers.get('content-encoding')).toBeNull()
    const zipped = await rawResponse(t, path, { 'accept-encoding': 'gzip, br' })
    expect(zipped.headers.get('content-encoding')).toBe('gzip')
    expect(new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(await zipped.arrayBuffer())))).toBe(plain.text)
    const again = await t.req('GET', path, { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    expect(again.text).toBe('')
    expect(again.headers.get('content-security-policy')).toContain("default-src 'self'")
  })
})

/** The raw Response (t.req decodes text, which would hide the gzip bytes). */
const rawResponse = (t: ReturnType<typeof testApp>, path: string, headers: Record<string, string>) =>
  t.app.handle(new Request(`http://localhost${path}`, { headers }))
