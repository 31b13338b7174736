// API tokens: personal/workspace/admin reach, scopes, rate limits and their headers, revocation and
// expiry, last_used_at batching; workspaces are owner-only (others get 404).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { tableCounts, testApp } from './helpers'
import { ManualClock } from '../src/clock'

const clock = new ManualClock()
const t = testApp({ clock })
afterAll(() => t.close())

type U = { token: string; id: string; email: string }
let admin: U, alice: U, bob: U
let aliceWs1 = '', aliceWs2 = '', bobWs = ''
const mkToken = async (as: U, body: Record<string, unknown>) => {
  const r = await t.req('POST', '/api/tokens', { token: as.token, body: { name: 'test', ...body } })
  if (r.status !== 201) throw new Error(`token: ${r.status} ${r.text}`)
  return r.body as { key: string; token: { id: string; rate_limit_rpm: number; prefix: string } }
}
const mkWs = async (as: U, name: string) => (await t.req('POST', '/api/workspaces', { token: as.token, body: { name } })).body.workspace.id as string

beforeAll(async () => {
  admin = await t.user('admin@example.com')
  alice = await t.user('alice@example.com')
  bob = await t.user('bob@example.com')
  aliceWs1 = await mkWs(alice, 'a1')
  aliceWs2 = await mkWs(alice, 'a2')
  bobWs = await mkWs(bob, 'b1')
})

describe('creating and listing', () => {
  test('a personal token is shown once, stored hashed, listed without the key', async () => {
    const { key, token } = await mkToken(alice, { name: 'ci', scopes: ['workspaces.read'], expires_in_days: 30 })
    expect(key).toMatch(/^ab_pat_[A-Za-z0-9_-]{40}$/)
    expect(key.startsWith(token.prefix)).toBe(true)
    const row = t.k.db.query<{ hash: string }, [string]>('SELECT hash FROM api_tokens WHERE id = ?').get(token.id)!
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/)
    expect(JSON.stringify(t.k.db.query('SELECT * FROM api_tokens').all())).not.toContain(key)
    const list = await t.req('GET', '/api/tokens', { token: alice.token })
    const listed = list.body.tokens.find((x: { id: string }) => x.id === token.id)
    expect(listed).toMatchObject({ name: 'ci', type: 'personal', prefix: token.prefix, scopes: ['workspaces.read'], rate_limit_rpm: 100, last_used_at: null, workspace_id: null })
    expect(listed.expires_at).toBe(new Date(clock.now() + 30 * 86400_000).toISOString().replace('.000', ''))
    expect(list.text).not.toContain(key)
    expect(list.body.tokens.every((x: { id: string }) => !(x as any).hash)).toBe(true)
  })

  test('defaults per type: personal 100, workspace 500, admin 1000 requests/min', async () => {
    expect((await mkToken(alice, {})).token.rate_limit_rpm).toBe(100)
    expect((await mkToken(alice, { type: 'workspace', workspace_id: aliceWs1 })).token.rate_limit_rpm).toBe(500)
    expect((await mkToken(admin, { type: 'admin' })).token.rate_limit_rpm).toBe(1000)
  })

  // Bodies are functions: the workspace ids exist only once beforeAll has run.
  const bad: Array<{ name: string; as: () => U; body: () => Record<string, unknown>; status: number; error: RegExp }> = [
    { name: 'a non-admin asks for an admin token', as: () => alice, body: () => ({ type: 'admin' }), status: 403, error: /Only admins can create admin tokens/ },
    { name: 'a workspace token without workspace_id', as: () => alice, body: () => ({ type: 'workspace' }), status: 400, error: /workspace_id is required/ },
    { name: "a workspace token for someone else's workspace", as: () => alice, body: () => ({ type: 'workspace', workspace_id: bobWs }), status: 404, error: /Workspace not found/ },
    { name: 'workspace_id on a personal token', as: () => alice, body: () => ({ workspace_id: aliceWs1 }), status: 400, error: /only allowed for workspace tokens/ },
    { name: 'an unknown scope', as: () => alice, body: () => ({ scopes: ['workspaces.read', 'root.everything'] }), status: 400, error: /Unknown scope "root.everything"/ },
    { name: 'an expiry in the past', as: () => alice, body: () => ({ expires_at: '2020-01-01T00:00:00Z' }), status: 400, error: /expires_at must be in the future/ },
    { name: 'both expiry forms', as: () => alice, body: () => ({ expires_at: '2099-01-01T00:00:00Z', expires_in_days: 3 }), status: 400, error: /not both/ },
    { name: 'a non-admin raising the rate limit', as: () => alice, body: () => ({ rate_limit_rpm: 101 }), status: 400, error: /rate_limit_rpm may not exceed 100/ },
  ]
  for (const c of bad) {
    test(`refused: ${c.name}`, async () => {
      const before = tableCounts(t.k)
      const r = await t.req('POST', '/api/tokens', { token: c.as().token, body: { name: 'x', ...c.body() } })
      expect(r.status).toBe(c.status)
      expect(r.body.error).toMatch(c.error)
      expect(tableCounts(t.k)).toEqual(before)
    })
  }

  test('tokens cannot mint or list tokens (login sessions only)', async () => {
    const { key } = await mkToken(alice, {})
    for (const [m, p] of [['POST', '/api/tokens'], ['GET', '/api/tokens']] as const) {
      const r = await t.req(m, p, { token: key, body: m === 'POST' ? { name: 'x' } : undefined })
      expect(r.status).toBe(403)
      expect(r.body.code).toBe('session_required')
    }
  })
})

describe('reach of each token type', () => {
  let personal = '', workspace = '', adminTok = '', adminPersonal = ''
  beforeAll(async () => {
    personal = (await mkToken(alice, {})).key
    workspace = (await mkToken(alice, { type: 'workspace', workspace_id: aliceWs1 })).key
    adminTok = (await mkToken(admin, { type: 'admin' })).key
    adminPersonal = (await mkToken(admin, {})).key
  })
  const cases: Array<{ name: string; key: () => string; method: string; path: () => string; body?: object; status: number }> = [
    { name: 'personal: own workspace', key: () => personal, method: 'GET', path: () => `/api/workspaces/${aliceWs2}`, status: 200 },
    { name: "personal: bob's workspace is 404", key: () => personal, method: 'GET', path: () => `/api/workspaces/${bobWs}`, status: 404 },
    { name: 'personal: may create workspaces', key: () => personal, method: 'POST', path: () => '/api/workspaces', body: { name: 'p' }, status: 201 },
    { name: 'workspace: its workspace', key: () => workspace, method: 'GET', path: () => `/api/workspaces/${aliceWs1}`, status: 200 },
    { name: "workspace: the owner's other workspace is 404", key: () => workspace, method: 'GET', path: () => `/api/workspaces/${aliceWs2}`, status: 404 },
    { name: 'workspace: cannot change another workspace', key: () => workspace, method: 'PATCH', path: () => `/api/workspaces/${aliceWs2}`, body: { name: 'x' }, status: 404 },
    { name: 'workspace: cannot create workspaces', key: () => workspace, method: 'POST', path: () => '/api/workspaces', body: { name: 'w' }, status: 403 },
    { name: "admin token: reaches bob's workspace", key: () => adminTok, method: 'GET', path: () => `/api/workspaces/${bobWs}`, status: 200 },
    { name: 'admin token: admin routes', key: () => adminTok, method: 'GET', path: () => '/api/admin/users', status: 200 },
    { name: "an admin's personal token: bob's workspace is 404", key: () => adminPersonal, method: 'GET', path: () => `/api/workspaces/${bobWs}`, status: 404 },
    { name: "an admin's personal token: admin routes refused", key: () => adminPersonal, method: 'GET', path: () => '/api/admin/users', status: 403 },
    { name: "personal: admin routes refused", key: () => personal, method: 'GET', path: () => '/api/admin/users', status: 403 },
  ]
  for (const c of cases) {
    test(c.name, async () => {
      const r = await t.req(c.method, c.path(), { token: c.key(), body: c.body })
      expect(r.status).toBe(c.status)
      if (c.status >= 400) expect(typeof r.body.error).toBe('string')
    })
  }

  test('lists follow the reach: workspace token sees one, admin token sees all', async () => {
    const ids = async (key: string) => (await t.req('GET', '/api/workspaces', { token: key })).body.workspaces.map((w: { id: string }) => w.id)
    expect(await ids(workspace)).toEqual([aliceWs1])
    expect(await ids(personal)).toContain(aliceWs2)
    expect(await ids(personal)).not.toContain(bobWs)
    expect(await ids(adminTok)).toEqual(expect.arrayContaining([aliceWs1, aliceWs2, bobWs]))
  })

  test('/api/auth/me tells how the caller authenticated', async () => {
    const r = await t.req('GET', '/api/auth/me', { token: workspace })
    expect(r.body.auth).toEqual({ via: 'token', token_type: 'workspace', scopes: null, workspace_id: aliceWs1 })
    expect(r.body.user.email).toBe('alice@example.com')
  })
})

describe('scopes', () => {
  test('a scoped token reaches what its scopes name; a missing scope is 403 naming it; nothing written', async () => {
    const { key } = await mkToken(alice, { scopes: ['workspaces.read'] })
    expect((await t.req('GET', '/api/workspaces', { token: key })).status).toBe(200)
    const before = tableCounts(t.k)
    const r = await t.req('POST', '/api/workspaces', { token: key, body: { name: 'nope' } })
    expect(r.status).toBe(403)
    expect(r.body).toEqual({ error: 'This credential lacks the "workspaces.write" scope', code: 'missing_scope' })
    expect(tableCounts(t.k)).toEqual(before)
    const w = await t.req('GET', '/api/wallet', { token: key })
    expect(w.status).toBe(403)
    expect(w.body.error).toContain('"wallet.read"')
  })

  test('a token with no scopes has its type\'s whole reach', async () => {
    const { key } = await mkToken(alice, {})
    expect((await t.req('POST', '/api/workspaces', { token: key, body: { name: 'full' } })).status).toBe(201)
    expect((await t.req('GET', '/api/wallet', { token: key })).status).toBe(200)
  })
})

describe('rate limits', () => {
  test('X-RateLimit-* on every limited response, per type', async () => {
    for (const [key, limit] of [
      [(await mkToken(alice, {})).key, 100],
      [(await mkToken(alice, { type: 'workspace', workspace_id: aliceWs1 })).key, 500],
      [(await mkToken(admin, { type: 'admin' })).key, 1000],
    ] as const) {
      const a = await t.req('GET', '/api/auth/me', { token: key })
      const b = await t.req('GET', '/api/workspaces/ws_missing', { token: key })
      expect(a.headers.get('x-ratelimit-limit')).toBe(String(limit))
      expect(Number(a.headers.get('x-ratelimit-remaining'))).toBe(limit - 1)
      expect(b.status).toBe(404)
      expect(Number(b.headers.get('x-ratelimit-remaining'))).toBe(limit - 2)
      expect(Number(a.headers.get('x-ratelimit-reset'))).toBeGreaterThanOrEqual(Math.floor(clock.now() / 1000))
    }
  })

  test('an exhausted bucket answers 429 with Retry-After until it refills', async () => {
    const { key } = await mkToken(alice, { rate_limit_rpm: 2 })
    expect((await t.req('GET', '/api/auth/me', { token: key })).status).toBe(200)
    expect((await t.req('GET', '/api/auth/me', { token: key })).status).toBe(200)
    const r = await t.req('GET', '/api/auth/me', { token: key })
    expect(r.status).toBe(429)
    expect(r.body.code).toBe('rate_limited')
    expect(r.body.error).toMatch(/retry in 30 s/)
    expect(r.headers.get('retry-after')).toBe('30')
    expect(r.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(r.headers.get('x-ratelimit-limit')).toBe('2')
    clock.advance(30_000)
    expect((await t.req('GET', '/api/auth/me', { token: key })).status).toBe(200)
  })

  test('buckets are per token, not per user', async () => {
    const a = await mkToken(alice, { rate_limit_rpm: 1 })
    const b = await mkToken(alice, { rate_limit_rpm: 1 })
    expect((await t.req('GET', '/api/auth/me', { token: a.key })).status).toBe(200)
    expect((await t.req('GET', '/api/auth/me', { token: a.key })).status).toBe(429)
    expect((await t.req('GET', '/api/auth/me', { token: b.key })).status).toBe(200)
  })
})

describe('revocation, expiry, last use', () => {
  test('a revoked token stops at once; revoking another user\'s token is 404', async () => {
    const { key, token } = await mkToken(alice, {})
    expect((await t.req('GET', '/api/auth/me', { token: key })).status).toBe(200)
    const other = await t.req('DELETE', `/api/tokens/${token.id}`, { token: bob.token })
    expect(other.status).toBe(404)
    expect((await t.req('GET', '/api/auth/me', { token: key })).status).toBe(200)
    const del = await t.req('DELETE', `/api/tokens/${token.id}`, { token: alice.token })
    expect(del.body).toEqual({ deleted: true })
    const r = await t.req('GET', '/api/auth/me', { token: key })
    expect(r.status).toBe(401)
    expect(r.body).toEqual({ error: 'Invalid API token', code: 'invalid_token' })
    expect((await t.req('DELETE', `/api/tokens/${token.id}`, { token: alice.token })).status).toBe(404)
    expect((await t.req('GET', '/api/tokens', { token: alice.token })).body.tokens.map((x: { id: string }) => x.id)).not.toContain(token.id)
  })

  test('changes made through the services reach cached tokens at once: workspace deleted, admin demoted', async () => {
    const ws = await mkWs(alice, 'short-lived')
    const wsKey = (await mkToken(alice, { type: 'workspace', workspace_id: ws })).key
    expect((await t.req('GET', '/api/auth/me', { token: wsKey })).status).toBe(200)
    expect((await t.req('DELETE', `/api/workspaces/${ws}`, { token: alice.token })).status).toBe(200)
    expect((await t.req('GET', '/api/auth/me', { token: wsKey })).status).toBe(401)

    const second = await t.user('second-admin@example.com')
    expect((await t.req('PATCH', `/api/admin/users/${second.id}`, { token: admin.token, body: { role: 'admin' } })).status).toBe(200)
    const adminKey = (await mkToken(second, { type: 'admin' })).key
    expect((await t.req('GET', '/api/admin/users', { token: adminKey })).status).toBe(200)
    expect((await t.req('PATCH', `/api/admin/users/${second.id}`, { token: admin.token, body: { role: 'user' } })).status).toBe(200)
    const r = await t.req('GET', '/api/admin/users', { token: adminKey })
    expect(r.status).toBe(401)
    expect(r.body.code).toBe('invalid_token')
  })

  test('an expired token is refused with a clear message', async () => {
    const { key } = await mkToken(alice, { expires_in_days: 1 })
    expect((await t.req('GET', '/api/auth/me', { token: key })).status).toBe(200)
    clock.advance(86400_000 + 1000)
    const r = await t.req('GET', '/api/auth/me', { token: key })
    expect(r.status).toBe(401)
    expect(r.body).toEqual({ error: 'API token has expired', code: 'token_expired' })
    // The login JWTs of this file expired with that day too: log in again.
    for (const u of [admin, alice, bob]) u.token = (await t.req('POST', '/api/auth/login', { body: { email: u.email, password: 'correct-horse-battery' } })).body.token
  })

  test('last_used_at is batched: no write on the request path, flushed by the worker or a listing', async () => {
    const { key, token } = await mkToken(alice, {})
    const lastUsed = () => t.k.db.query<{ last_used_at: string | null }, [string]>('SELECT last_used_at FROM api_tokens WHERE id = ?').get(token.id)!.last_used_at
    await t.req('GET', '/api/auth/me', { token: key })
    expect(lastUsed()).toBeNull()
    expect(t.k.touched.get(token.id)).toBe(new Date(clock.now()).toISOString().replace('.000', ''))
    t.k.workers.start('auth.touch-flush')
    await t.k.workers.stopAll()
    expect(lastUsed()).toBe(t.k.touched.get(token.id) ?? new Date(clock.now()).toISOString().replace('.000', ''))
    expect(t.k.touched.size).toBe(0)

    clock.advance(60_000)
    await t.req('GET', '/api/auth/me', { token: key })
    const listed = (await t.req('GET', '/api/tokens', { token: alice.token })).body.tokens.find((x: { id: string }) => x.id === token.id)
    expect(listed.last_used_at).toBe(new Date(clock.now()).toISOString().replace('.000', ''))
  })
})

describe("workspaces are owner-only: another user's look missing", () => {
  const cases = [
    { name: 'read', method: 'GET', body: undefined },
    { name: 'update', method: 'PATCH', body: { name: 'stolen' } },
    { name: 'delete', method: 'DELETE', body: undefined },
  ]
  for (const c of cases) {
    test(`bob cannot ${c.name} alice's workspace (404, same as missing; nothing changed)`, async () => {
      const before = t.k.db.query('SELECT * FROM workspaces ORDER BY id').all()
      const r = await t.req(c.method, `/api/workspaces/${aliceWs1}`, { token: bob.token, body: c.body })
      const missing = await t.req(c.method, '/api/workspaces/ws_doesnotexist0000000', { token: bob.token, body: c.body })
      expect(r.status).toBe(404)
      expect(r.body).toEqual(missing.body)
      expect(r.body).toEqual({ error: 'Workspace not found', code: 'not_found' })
      expect(t.k.db.query('SELECT * FROM workspaces ORDER BY id').all()).toEqual(before)
    })
  }

  test('the owner can read, update and delete', async () => {
    const id = await mkWs(alice, 'temp')
    expect((await t.req('GET', `/api/workspaces/${id}`, { token: alice.token })).body.workspace).toMatchObject({ id, name: 'temp', owner_id: alice.id, description: null })
    const u = await t.req('PATCH', `/api/workspaces/${id}`, { token: alice.token, body: { description: 'd' } })
    expect(u.body.workspace).toMatchObject({ name: 'temp', description: 'd' })
    expect((await t.req('DELETE', `/api/workspaces/${id}`, { token: alice.token })).body).toEqual({ deleted: true })
    expect((await t.req('GET', `/api/workspaces/${id}`, { token: alice.token })).status).toBe(404)
  })
})
