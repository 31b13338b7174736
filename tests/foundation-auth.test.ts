// Accounts and sessions: registration rules, login and its throttle, JWTs (forged, expired, alg none),
// logout ending cookie and JWT at once, admins disabling users, cookie sessions and CSRF.
import { afterAll, describe, expect, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import { tableCounts, testApp, type TestApp } from './helpers'
import { ManualClock } from '../src/clock'

const PW = 'correct-horse-battery'
const apps: TestApp[] = []
const app = (opts: Parameters<typeof testApp>[0] = {}) => {
  const t = testApp(opts)
  apps.push(t)
  return t
}
afterAll(() => { for (const t of apps) t.close() })

const b64 = (v: object | string) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
/** A JWT signed (HS256) with `secret`, or unsigned with alg "none". */
function craftJwt(payload: object, secret: string | null, header: object = { alg: secret ? 'HS256' : 'none', typ: 'JWT' }) {
  const data = `${b64(header)}.${b64(payload)}`
  return `${data}.${secret ? createHmac('sha256', secret).update(data).digest('base64url') : ''}`
}
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString())

const register = (t: TestApp, email: string, opts: { token?: string; admin?: boolean; headers?: Record<string, string> } = {}) =>
  t.req('POST', '/api/auth/register', { body: { email, password: PW, ...(opts.admin ? { admin: true } : {}) }, token: opts.token, headers: opts.headers })
const login = (t: TestApp, email: string, password = PW, headers: Record<string, string> = {}) =>
  t.req('POST', '/api/auth/login', { body: { email, password }, headers })
const cookieOf = (r: { headers: Headers }) => /agentbase_session=([^;]+)/.exec(r.headers.get('set-cookie') ?? '')?.[1] ?? ''

describe('registration rules (closed registration)', () => {
  const t = app({ env: { AGENTBASE_OPEN_REGISTRATION: 'off' } })
  let adminJwt = '', userJwt = ''

  const steps: Array<{ name: string; run: () => Promise<{ status: number; body: any }>; status: number; role?: string; error?: RegExp }> = [
    { name: 'the first user registers and becomes admin', run: () => register(t, 'root@example.com'), status: 201, role: 'admin' },
    { name: 'a second anonymous registration is refused', run: () => register(t, 'eve@example.com'), status: 403, error: /Registration is closed/ },
    { name: 'an anonymous request for an admin account is refused', run: () => register(t, 'eve2@example.com', { admin: true }), status: 403, error: /closed|admins/ },
    { name: 'an invalid bearer on register is refused', run: () => register(t, 'eve3@example.com', { token: 'garbage' }), status: 401, error: /Invalid or expired token/ },
    { name: 'the admin registers a user', run: async () => { adminJwt = (await login(t, 'root@example.com')).body.token; return register(t, 'bob@example.com', { token: adminJwt }) }, status: 201, role: 'user' },
    { name: 'the admin registers another admin', run: () => register(t, 'ops@example.com', { token: adminJwt, admin: true }), status: 201, role: 'admin' },
    { name: 'a plain user cannot register others', run: async () => { userJwt = (await login(t, 'bob@example.com')).body.token; return register(t, 'carl@example.com', { token: userJwt }) }, status: 403, error: /Registration is closed/ },
    { name: 'a duplicate email is a conflict', run: () => register(t, 'bob@example.com', { token: adminJwt }), status: 409, error: /already exists/ },
    { name: 'a duplicate email in another case is a conflict', run: () => register(t, 'BOB@Example.com', { token: adminJwt }), status: 409, error: /already exists/ },
  ]
  for (const s of steps) {
    test(s.name, async () => {
      const before = tableCounts(t.k)
      const r = await s.run()
      expect(r.status).toBe(s.status)
      if (s.role) expect(r.body.user.role).toBe(s.role)
      if (s.error) {
        expect(r.body.error).toMatch(s.error)
        expect(tableCounts(t.k).users).toBe(before.users)
      }
    })
  }

  test('password hashes are argon2id and never returned', async () => {
    const row = t.k.db.query<{ password_hash: string }, []>("SELECT password_hash FROM users WHERE email = 'bob@example.com'").get()!
    expect(row.password_hash).toStartWith('$argon2id$')
    const me = await t.req('GET', '/api/auth/me', { token: userJwt })
    expect(me.text).not.toContain('argon2')
    expect(me.body.user).toEqual({ id: expect.any(String), email: 'bob@example.com', role: 'user', monthly_token_quota: null, disabled: false, created_at: expect.any(String) })
  })
})

describe('registration rules (AGENTBASE_OPEN_REGISTRATION)', () => {
  const t = app({ env: { AGENTBASE_OPEN_REGISTRATION: 'on' } })
  test('anyone may register; only the first becomes admin; nobody self-elects admin', async () => {
    expect((await register(t, 'first@example.com')).body.user.role).toBe('admin')
    expect((await register(t, 'second@example.com')).body.user.role).toBe('user')
    const before = tableCounts(t.k)
    const r = await register(t, 'third@example.com', { admin: true })
    expect(r.status).toBe(403)
    expect(r.body.error).toMatch(/Only admins can create admin users/)
    expect(tableCounts(t.k)).toEqual(before)
  })
})

describe('login', () => {
  const clock = new ManualClock()
  const t = app({ clock, env: { AGENTBASE_TRUST_PROXY: 'on' } })
  let ready: Promise<unknown> | null = null
  const setup = () => (ready ??= (async () => { await register(t, 'ada@example.com'); await register(t, 'bea@example.com') })())

  test('returns a JWT that expires in 24 h, the user, and an HttpOnly SameSite cookie', async () => {
    await setup()
    const r = await login(t, 'ADA@example.com')
    expect(r.status).toBe(200)
    expect(r.body.user.email).toBe('ada@example.com')
    const c = claims(r.body.token)
    expect(c.exp - Math.floor(clock.now() / 1000)).toBe(24 * 3600)
    expect(r.body.expires_at).toBe(new Date(c.exp * 1000).toISOString().replace('.000', ''))
    expect(typeof c.sid).toBe('string')
    const setCookie = r.headers.get('set-cookie')!
    expect(setCookie).toMatch(/agentbase_session=[^;]+/)
    expect(setCookie).toMatch(/HttpOnly/i)
    expect(setCookie).toMatch(/SameSite=Lax/i)
    expect(setCookie).toMatch(/Path=\//)
  })

  const wrong = [
    { name: 'wrong password', email: 'ada@example.com', password: 'not-the-password' },
    { name: 'unknown email', email: 'nobody@example.com', password: PW },
  ]
  for (const w of wrong) {
    test(`${w.name}: 401 with the same message, no session written`, async () => {
      await setup()
      const before = tableCounts(t.k)
      const r = await login(t, w.email, w.password, { 'x-forwarded-for': `10.9.0.${wrong.indexOf(w)}` })
      expect(r.status).toBe(401)
      expect(r.body).toEqual({ error: 'Wrong email or password', code: 'invalid_credentials' })
      expect(tableCounts(t.k)).toEqual(before)
    })
  }

  test('per email: the sixth try within 15 minutes is throttled, even with the right password, until the window passes', async () => {
    await setup()
    for (let i = 0; i < 5; i++) expect((await login(t, 'bea@example.com', 'wrong-password', { 'x-forwarded-for': `10.1.0.${i}` })).status).toBe(401)
    const r = await login(t, 'bea@example.com', PW, { 'x-forwarded-for': '10.1.1.1' })
    expect(r.status).toBe(429)
    expect(r.body.code).toBe('login_throttled')
    expect(r.body.error).toMatch(/Too many failed logins; try again in \d+ s/)
    expect(Number(r.headers.get('retry-after'))).toBe(15 * 60)
    clock.advance(15 * 60 * 1000 + 1000)
    expect((await login(t, 'bea@example.com', PW, { 'x-forwarded-for': '10.1.1.1' })).status).toBe(200)
  })

  test('per IP: twenty failures across many emails throttle that IP only', async () => {
    await setup()
    for (let i = 0; i < 20; i++) expect((await login(t, `spray${i}@example.com`, 'wrong-password', { 'x-forwarded-for': '203.0.113.7' })).status).toBe(401)
    const blocked = await login(t, 'ada@example.com', PW, { 'x-forwarded-for': '203.0.113.7' })
    expect(blocked.status).toBe(429)
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await login(t, 'ada@example.com', PW, { 'x-forwarded-for': '203.0.113.8' })).status).toBe(200)
  })

  test('X-Forwarded-For is ignored unless the proxy is trusted', async () => {
    const u = app({ env: { AGENTBASE_TRUST_PROXY: 'off' } })
    for (let i = 0; i < 20; i++) expect((await login(u, `x${i}@example.com`, 'wrong-password', { 'x-forwarded-for': `198.51.100.${i}` })).status).toBe(401)
    expect((await login(u, 'y@example.com', 'wrong-password', { 'x-forwarded-for': '198.51.100.99' })).status).toBe(429)
  })
})

describe('JWTs', () => {
  const clock = new ManualClock()
  const t = app({ clock })
  let jwt = '', userId = '', sid = ''
  const ready = (async () => {
    await register(t, 'jay@example.com')
    jwt = (await login(t, 'jay@example.com')).body.token
    ;({ sub: userId, sid } = claims(jwt))
  })()
  const now = () => Math.floor(clock.now() / 1000)

  const cases: Array<{ name: string; token: () => string; error: RegExp; code: string }> = [
    { name: 'signed with another secret', token: () => craftJwt({ sub: userId, sid, exp: now() + 3600 }, 'not-our-secret'), error: /Invalid or expired token/, code: 'invalid_token' },
    { name: 'alg "none"', token: () => craftJwt({ sub: userId, sid, exp: now() + 3600 }, null), error: /Invalid or expired token/, code: 'invalid_token' },
    { name: 'alg "none" with our signature', token: () => craftJwt({ sub: userId, sid, exp: now() + 3600 }, t.k.jwtSecret, { alg: 'none', typ: 'JWT' }), error: /Invalid or expired token/, code: 'invalid_token' },
    { name: 'payload changed after signing', token: () => { const [h, , s] = jwt.split('.'); return `${h}.${b64({ ...claims(jwt), sub: 'usr_someoneelse' })}.${s}` }, error: /Invalid or expired token/, code: 'invalid_token' },
    { name: 'expired (crafted exp)', token: () => craftJwt({ sub: userId, sid, exp: now() - 10 }, t.k.jwtSecret), error: /Invalid or expired token/, code: 'invalid_token' },
    { name: 'no session id', token: () => craftJwt({ sub: userId, exp: now() + 3600 }, t.k.jwtSecret), error: /Invalid or expired token/, code: 'invalid_token' },
    { name: 'alg swapped to HS512', token: () => craftJwt({ sub: userId, sid, exp: now() + 3600 }, t.k.jwtSecret, { alg: 'HS512', typ: 'JWT' }), error: /Invalid or expired token/, code: 'invalid_token' },
    { name: 'a critical header extension', token: () => craftJwt({ sub: userId, sid, exp: now() + 3600 }, t.k.jwtSecret, { alg: 'HS256', crit: ['b64'], b64: false }), error: /Invalid or expired token/, code: 'invalid_token' },
    { name: 'no expiry', token: () => craftJwt({ sub: userId, sid }, t.k.jwtSecret), error: /Invalid or expired token/, code: 'invalid_token' },
    { name: 'not valid yet (nbf)', token: () => craftJwt({ sub: userId, sid, exp: now() + 3600, nbf: now() + 600 }, t.k.jwtSecret), error: /Invalid or expired token/, code: 'invalid_token' },
    { name: 'an extra segment', token: () => `${jwt}.AAAA`, error: /Invalid or expired token/, code: 'invalid_token' },
    { name: 'a signature with non-canonical base64url', token: () => `${jwt}=`, error: /Invalid or expired token/, code: 'invalid_token' },
    { name: 'a session that does not exist', token: () => craftJwt({ sub: userId, sid: 'nosuchsession', exp: now() + 3600 }, t.k.jwtSecret), error: /Session has ended/, code: 'session_ended' },
    { name: 'a real session under another subject', token: () => craftJwt({ sub: 'usr_other', sid, exp: now() + 3600 }, t.k.jwtSecret), error: /Session has ended/, code: 'session_ended' },
  ]
  for (const c of cases) {
    test(`refused: ${c.name}`, async () => {
      await ready
      const r = await t.req('GET', '/api/auth/me', { token: c.token() })
      expect(r.status).toBe(401)
      expect(r.body.error).toMatch(c.error)
      expect(r.body.code).toBe(c.code)
    })
  }

  test('a crafted JWT with our secret, a live session and a future expiry is accepted (the checks above are the only gate)', async () => {
    await ready
    const r = await t.req('GET', '/api/auth/me', { token: craftJwt({ sub: userId, sid, exp: now() + 60, nbf: now() - 1 }, t.k.jwtSecret) })
    expect(r.status).toBe(200)
  })

  test('a valid JWT works until the clock passes its expiry', async () => {
    await ready
    expect((await t.req('GET', '/api/auth/me', { token: jwt })).status).toBe(200)
    clock.advance(24 * 3600 * 1000 + 1000)
    const r = await t.req('GET', '/api/auth/me', { token: jwt })
    expect(r.status).toBe(401)
    expect(r.body.code).toBe('invalid_token')
  })
})

describe('logout and disabling end every credential at once', () => {
  const t = app()
  test('logout with the JWT ends the JWT and the cookie session of that login', async () => {
    await register(t, 'lo@example.com')
    const l = await login(t, 'lo@example.com')
    const cookie = cookieOf(l)
    const asCookie = { headers: { cookie: `agentbase_session=${cookie}` } }
    expect((await t.req('GET', '/api/auth/me', asCookie)).body.auth.via).toBe('session')
    const out = await t.req('POST', '/api/auth/logout', { token: l.body.token })
    expect(out.status).toBe(200)
    expect(out.body).toEqual({ logged_out: true })
    expect(out.headers.get('set-cookie')).toMatch(/agentbase_session=;|Max-Age=0/)
    expect((await t.req('GET', '/api/auth/me', { token: l.body.token })).status).toBe(401)
    expect((await t.req('GET', '/api/auth/me', asCookie)).status).toBe(401)
    expect(t.k.db.query('SELECT count(*) AS n FROM sessions').get()).toEqual({ n: 0 })
  })

  test('logout with the cookie ends the JWT too', async () => {
    const l = await login(t, 'lo@example.com')
    const r = await t.req('POST', '/api/auth/logout', { headers: { cookie: `agentbase_session=${cookieOf(l)}` } })
    expect(r.status).toBe(200)
    expect((await t.req('GET', '/api/auth/me', { token: l.body.token })).status).toBe(401)
  })

  test('an API token cannot log out (it is not a session)', async () => {
    const l = await login(t, 'lo@example.com')
    const key = (await t.req('POST', '/api/tokens', { token: l.body.token, body: { name: 'k' } })).body.key
    const r = await t.req('POST', '/api/auth/logout', { token: key })
    expect(r.status).toBe(403)
    expect(r.body.code).toBe('session_required')
  })

  test('an admin disabling a user ends their JWTs, cookie sessions and API tokens; login refused', async () => {
    const admin = (await login(t, 'lo@example.com')).body.token
    await register(t, 'dee@example.com')
    const l = await login(t, 'dee@example.com')
    const key = (await t.req('POST', '/api/tokens', { token: l.body.token, body: { name: 'k' } })).body.key
    const cookie = { headers: { cookie: `agentbase_session=${cookieOf(l)}` } }
    for (const o of [{ token: l.body.token }, { token: key }, cookie]) expect((await t.req('GET', '/api/auth/me', o)).status).toBe(200)

    const r = await t.req('PATCH', `/api/admin/users/${l.body.user.id}`, { token: admin, body: { disabled: true } })
    expect(r.status).toBe(200)
    expect(r.body.user.disabled).toBe(true)
    for (const o of [{ token: l.body.token }, { token: key }, cookie]) {
      const me = await t.req('GET', '/api/auth/me', o)
      expect(me.status).toBe(401)
      expect(me.body.error).toMatch(/disabled|Session has ended|Authentication required/)
    }
    const again = await login(t, 'dee@example.com')
    expect(again.status).toBe(401)
    expect(again.body.code).toBe('account_disabled')
  })

  const adminCases = [
    { name: 'a plain user may not patch users', as: 'user', target: 'self', body: { role: 'admin' }, status: 403, error: /Admins only/ },
    { name: 'an admin may not disable themselves', as: 'admin', target: 'self', body: { disabled: true }, status: 400, error: /cannot disable or demote themselves/ },
    { name: 'an unknown user is 404', as: 'admin', target: 'usr_nope', body: { disabled: true }, status: 404, error: /User not found/ },
    { name: 'a mistyped field names it', as: 'admin', target: 'other', body: { disabled: 'yes' }, status: 400, error: /disabled must be a boolean/i },
  ]
  for (const c of adminCases) {
    test(`PATCH /api/admin/users/:id: ${c.name}`, async () => {
      const admin = await login(t, 'lo@example.com')
      await register(t, 'plain@example.com').catch(() => {})
      const plain = await login(t, 'plain@example.com')
      const who = c.as === 'admin' ? admin : plain
      const id = c.target === 'self' ? who.body.user.id : c.target === 'other' ? plain.body.user.id : c.target
      const before = tableCounts(t.k)
      const usersBefore = t.k.db.query('SELECT * FROM users ORDER BY id').all()
      const r = await t.req('PATCH', `/api/admin/users/${id}`, { token: who.body.token, body: c.body })
      expect(r.status).toBe(c.status)
      expect(r.body.error).toMatch(c.error)
      expect(tableCounts(t.k)).toEqual(before)
      expect(t.k.db.query('SELECT * FROM users ORDER BY id').all()).toEqual(usersBefore)
    })
  }
})

describe('cookie sessions and CSRF', () => {
  const t = app({ env: { AGENTBASE_PUBLIC_URL: 'https://agents.example.com' } })
  let cookie = '', jwt = ''
  const ready = (async () => {
    await register(t, 'cs@example.com')
    const l = await login(t, 'cs@example.com')
    cookie = `agentbase_session=${cookieOf(l)}`
    jwt = l.body.token
  })()

  const cases: Array<{ name: string; method: string; headers: Record<string, string>; bearer?: boolean; status: number }> = [
    { name: 'a cross-site POST (Origin) with the cookie is refused', method: 'POST', headers: { origin: 'https://evil.example' }, status: 403 },
    { name: 'a cross-site POST (Sec-Fetch-Site) with the cookie is refused', method: 'POST', headers: { 'sec-fetch-site': 'cross-site' }, status: 403 },
    { name: 'a same-site (other subdomain) POST with the cookie is refused', method: 'POST', headers: { 'sec-fetch-site': 'same-site', origin: 'https://other.example.com' }, status: 403 },
    { name: 'a same-origin POST (Sec-Fetch-Site) is allowed', method: 'POST', headers: { 'sec-fetch-site': 'same-origin' }, status: 201 },
    { name: 'a same-origin POST (Origin of the request) is allowed', method: 'POST', headers: { origin: 'http://localhost' }, status: 201 },
    { name: 'a POST from the public origin (AGENTBASE_PUBLIC_URL) is allowed', method: 'POST', headers: { origin: 'https://agents.example.com' }, status: 201 },
    { name: 'a non-browser POST (no Origin, no Sec-Fetch-Site) is allowed', method: 'POST', headers: {}, status: 201 },
    { name: 'a cross-site GET is allowed (safe method)', method: 'GET', headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, status: 200 },
    { name: 'a cross-site POST with a bearer JWT is allowed (no ambient credential)', method: 'POST', headers: { origin: 'https://evil.example' }, bearer: true, status: 201 },
  ]
  for (const c of cases) {
    test(c.name, async () => {
      await ready
      const before = tableCounts(t.k)
      const headers = c.bearer ? c.headers : { ...c.headers, cookie }
      const r = await t.req(c.method, '/api/workspaces', { headers, token: c.bearer ? jwt : undefined, body: c.method === 'POST' ? { name: 'w' } : undefined })
      expect(r.status).toBe(c.status)
      if (c.status === 403) {
        expect(r.body).toEqual({ error: 'Cross-site request refused: cookie sessions only accept requests from this origin', code: 'csrf' })
        expect(tableCounts(t.k)).toEqual(before)
      }
    })
  }

  test('a forged cookie is not a session', async () => {
    const r = await t.req('GET', '/api/auth/me', { headers: { cookie: 'agentbase_session=forged' } })
    expect(r.status).toBe(401)
  })
})
