// Bot accounts (reference: /api/bot/manage): every route, slug conflicts, the key shown once and stored
// hashed, regenerate, scopes (allowed / 403 naming the scope), inactive accounts, rpm limits, and that
// bot keys never manage bot accounts.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { expectRefused, testApp } from './helpers'
import { READ_ONLY_SCOPES } from '../src/auth/scopes'
import { hashKey } from '../src/auth/keys'

const t = testApp()
let alice: { token: string; id: string }
let bob: { token: string; id: string }
let bot: any
let botKey: string

beforeAll(async () => {
  alice = await t.user() // first user: admin
  bob = await t.user()
  const r = await t.req('POST', '/api/bot/manage', { token: alice.token, body: { name: 'MathProver', slug: 'math-prover', description: 'Verifies mathematical proofs', avatarUrl: 'https://example.com/a.png' } })
  expect(r.status).toBe(201)
  bot = r.body.bot
  botKey = r.body.apiKey
})
afterAll(() => t.close())

const create = async (token: string, body: Record<string, unknown>) => {
  const r = await t.req('POST', '/api/bot/manage', { token, body })
  if (r.status !== 201) throw new Error(`create failed ${r.status} ${r.text}`)
  return r.body as { bot: any; apiKey: string }
}

test('create answers the reference shape: bot (camelCase) and a bot_ key', () => {
  expect(Object.keys(bot).sort()).toEqual(['avatarUrl', 'createdAt', 'description', 'id', 'isActive', 'keyPrefix', 'name', 'rateLimitRpm', 'scopes', 'slug', 'updatedAt', 'workspaceId'])
  expect(bot.id).toMatch(/^bacc_/)
  expect(bot).toMatchObject({ name: 'MathProver', slug: 'math-prover', description: 'Verifies mathematical proofs', avatarUrl: 'https://example.com/a.png', isActive: true, rateLimitRpm: 60 })
  expect(bot.scopes).toEqual(READ_ONLY_SCOPES)
  expect(bot.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  expect(botKey).toMatch(/^bot_[A-Za-z0-9_-]{40}$/)
  expect(botKey.startsWith(bot.keyPrefix)).toBe(true)
})

test('GET list answers a bare array of your bots; GET one; neither carries the key', async () => {
  const list = await t.req('GET', '/api/bot/manage', { token: alice.token })
  expect(list.status).toBe(200)
  expect(Array.isArray(list.body)).toBe(true)
  expect(list.body.map((b: any) => b.id)).toContain(bot.id)
  const one = await t.req('GET', `/api/bot/manage/${bot.id}`, { token: alice.token })
  expect(one.status).toBe(200)
  expect(one.body).toEqual(bot)
  expect(list.text + one.text).not.toContain(botKey)
  expect(list.text + one.text).not.toMatch(/apiKey|key_hash/)
  const bobs = await t.req('GET', '/api/bot/manage', { token: bob.token })
  expect(bobs.body).toEqual([])
})

test('the key is stored only as a hash: absent from the database file bytes', () => {
  t.k.db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
  const files = ['agentbase.db', 'agentbase.db-wal'].map((f) => join(t.dir, f)).filter(existsSync)
  const bytes = Buffer.concat(files.map((f) => readFileSync(f)))
  expect(bytes.includes(Buffer.from(botKey))).toBe(false)
  expect(bytes.includes(Buffer.from(botKey.slice(10)))).toBe(false)
  expect(bytes.includes(Buffer.from(hashKey(botKey)))).toBe(true)
})

interface Scenario { name: string; method: string; path: () => string; as: () => string | undefined; body?: unknown; status: number; error?: RegExp; code?: string }
const cases: Scenario[] = [
  { name: 'no credentials', method: 'GET', path: () => '/api/bot/manage', as: () => undefined, status: 401 },
  { name: 'duplicate slug', method: 'POST', path: () => '/api/bot/manage', as: () => bob.token, body: { name: 'Copy', slug: 'math-prover' }, status: 409, error: /^Slug already taken$/ },
  { name: 'invalid slug', method: 'POST', path: () => '/api/bot/manage', as: () => alice.token, body: { name: 'X', slug: 'Not A Slug' }, status: 400, error: /slug must match/i },
  { name: 'missing name', method: 'POST', path: () => '/api/bot/manage', as: () => alice.token, body: { slug: 'no-name' }, status: 400, error: /name is required/i },
  { name: 'unknown scope lists the valid ones', method: 'POST', path: () => '/api/bot/manage', as: () => alice.token, body: { name: 'X', slug: 'x-scope', scopes: ['forum.read'] }, status: 400, error: /Unknown scope "forum.read".*valid scopes: .*bots\.read.*memory\.write/ },
  { name: 'avatarUrl with a javascript: scheme', method: 'POST', path: () => '/api/bot/manage', as: () => alice.token, body: { name: 'X', slug: 'x-avatar', avatarUrl: 'javascript:alert(1)' }, status: 400, error: /avatarUrl must use http or https/ },
  { name: 'rpm above the user cap', method: 'POST', path: () => '/api/bot/manage', as: () => bob.token, body: { name: 'X', slug: 'x-rpm', rateLimitRpm: 5000 }, status: 400, error: /rateLimitRpm may not exceed 1000/ },
  { name: "another user's bot: GET", method: 'GET', path: () => `/api/bot/manage/${bot.id}`, as: () => bob.token, status: 404, error: /Bot account not found/ },
  { name: "another user's bot: PATCH", method: 'PATCH', path: () => `/api/bot/manage/${bot.id}`, as: () => bob.token, body: { name: 'Mine' }, status: 404 },
  { name: "another user's bot: DELETE", method: 'DELETE', path: () => `/api/bot/manage/${bot.id}`, as: () => bob.token, status: 404 },
  { name: "another user's bot: regenerate", method: 'POST', path: () => `/api/bot/manage/${bot.id}/regenerate-key`, as: () => bob.token, status: 404 },
  { name: "another user's bot: memory", method: 'GET', path: () => `/api/bot/manage/${bot.id}/memory`, as: () => bob.token, status: 404 },
  { name: 'missing bot', method: 'GET', path: () => '/api/bot/manage/bacc_nope', as: () => alice.token, status: 404 },
  { name: 'PATCH with a bad type', method: 'PATCH', path: () => `/api/bot/manage/${bot.id}`, as: () => alice.token, body: { isActive: 'yes' }, status: 400, error: /isActive must be a boolean/i },
  { name: 'PATCH rpm zero', method: 'PATCH', path: () => `/api/bot/manage/${bot.id}`, as: () => alice.token, body: { rateLimitRpm: 0 }, status: 400, error: /rateLimitRpm must be at least 1/i },
  { name: 'a bot key cannot list bot accounts', method: 'GET', path: () => '/api/bot/manage', as: () => botKey, status: 403, error: /Bot account keys cannot manage/ },
  { name: 'a bot key cannot create bot accounts', method: 'POST', path: () => '/api/bot/manage', as: () => botKey, body: { name: 'Child', slug: 'child-bot' }, status: 403 },
  { name: 'a bot key cannot regenerate its own key', method: 'POST', path: () => `/api/bot/manage/${bot.id}/regenerate-key`, as: () => botKey, status: 403 },
  { name: 'an invalid bot key', method: 'GET', path: () => '/api/workspaces', as: () => 'bot_' + 'x'.repeat(40), status: 401, error: /Invalid API key/ },
]

describe('route walk: errors are clear, right status, nothing written', () => {
  for (const c of cases) {
    test(c.name, () => expectRefused(t, c))
  }
})

test('PATCH updates every reference field; scopes validated', async () => {
  const { bot: b } = await create(alice.token, { name: 'Patchy', slug: 'patchy' })
  const r = await t.req('PATCH', `/api/bot/manage/${b.id}`, {
    token: alice.token, body: { name: 'Patched', description: 'new', avatarUrl: null, scopes: ['bots.read', 'memory.write'], isActive: false, rateLimitRpm: 120 },
  })
  expect(r.status).toBe(200)
  expect(r.body).toMatchObject({ id: b.id, name: 'Patched', description: 'new', avatarUrl: null, scopes: ['bots.read', 'memory.write'], isActive: false, rateLimitRpm: 120, slug: 'patchy' })
  expect((await t.req('GET', `/api/bot/manage/${b.id}`, { token: alice.token })).body).toEqual(r.body)
  const bad = await t.req('PATCH', `/api/bot/manage/${b.id}`, { token: alice.token, body: { scopes: ['everything'] } })
  expect(bad.status).toBe(400)
  expect(bad.body.error).toContain('valid scopes:')
})

test('a bot key acts for its owner, within its scopes (403 names the missing scope)', async () => {
  const ws = await t.req('POST', '/api/workspaces', { token: alice.token, body: { name: 'Alice WS' } })
  expect(ws.status).toBe(201)
  // Default read-only scopes: reads work, writes are refused naming the scope.
  const read = await t.req('GET', '/api/workspaces', { token: botKey })
  expect(read.status).toBe(200)
  expect(read.body.workspaces.map((w: any) => w.id)).toContain(ws.body.workspace.id)
  const write = await t.req('POST', '/api/workspaces', { token: botKey, body: { name: 'from bot' } })
  expect(write.status).toBe(403)
  expect(write.body.error).toContain('"workspaces.write"')
  expect(write.body.code).toBe('missing_scope')
  // A narrowly scoped bot.
  const { apiKey } = await create(alice.token, { name: 'Narrow', slug: 'narrow', scopes: ['workspaces.write'] })
  const w2 = await t.req('POST', '/api/workspaces', { token: apiKey, body: { name: 'made by bot' } })
  expect(w2.status).toBe(201)
  expect(w2.body.workspace.owner_id).toBe(alice.id)
  const r2 = await t.req('GET', '/api/workspaces', { token: apiKey })
  expect(r2.status).toBe(403)
  expect(r2.body.error).toContain('"workspaces.read"')
})

test('personal API tokens go through the same scope checks on these routes', async () => {
  const tok = await t.req('POST', '/api/tokens', { token: alice.token, body: { name: 'ro', scopes: ['bots.read'] } })
  expect(tok.status).toBe(201)
  const list = await t.req('GET', '/api/bot/manage', { token: tok.body.key })
  expect(list.status).toBe(200)
  const create = await t.req('POST', '/api/bot/manage', { token: tok.body.key, body: { name: 'T', slug: 'via-token' } })
  expect(create.status).toBe(403)
  expect(create.body.error).toContain('"bots.write"')
})

test('regenerate-key: new key works, the old one is dead at once', async () => {
  const { bot: b, apiKey: old } = await create(alice.token, { name: 'Regen', slug: 'regen' })
  expect((await t.req('GET', '/api/workspaces', { token: old })).status).toBe(200)
  const r = await t.req('POST', `/api/bot/manage/${b.id}/regenerate-key`, { token: alice.token })
  expect(r.status).toBe(200)
  expect(Object.keys(r.body)).toEqual(['apiKey'])
  expect(r.body.apiKey).toMatch(/^bot_/)
  expect(r.body.apiKey).not.toBe(old)
  const dead = await t.req('GET', '/api/workspaces', { token: old })
  expect(dead.status).toBe(401)
  expect(dead.body.error).toBe('Invalid API key')
  expect((await t.req('GET', '/api/workspaces', { token: r.body.apiKey })).status).toBe(200)
  const after = await t.req('GET', `/api/bot/manage/${b.id}`, { token: alice.token })
  expect(r.body.apiKey.startsWith(after.body.keyPrefix)).toBe(true)
})

test('an inactive account gets 401 with a clear message; re-activating restores it', async () => {
  const { bot: b, apiKey } = await create(alice.token, { name: 'Sleepy', slug: 'sleepy' })
  await t.req('PATCH', `/api/bot/manage/${b.id}`, { token: alice.token, body: { isActive: false } })
  const r = await t.req('GET', '/api/workspaces', { token: apiKey })
  expect(r.status).toBe(401)
  expect(r.body.error).toMatch(/Bot account "Sleepy" is inactive/)
  expect(r.body.code).toBe('bot_inactive')
  await t.req('PATCH', `/api/bot/manage/${b.id}`, { token: alice.token, body: { isActive: true } })
  expect((await t.req('GET', '/api/workspaces', { token: apiKey })).status).toBe(200)
})

test('rateLimitRpm is enforced per account with X-RateLimit-* headers and 429 Retry-After', async () => {
  const { bot: b, apiKey } = await create(alice.token, { name: 'Limited', slug: 'limited', rateLimitRpm: 3 })
  const { apiKey: other } = await create(alice.token, { name: 'Other', slug: 'other-limited', rateLimitRpm: 3 })
  for (let i = 0; i < 3; i++) {
    const r = await t.req('GET', '/api/workspaces', { token: apiKey })
    expect(r.status).toBe(200)
    expect(r.headers.get('x-ratelimit-limit')).toBe('3')
    expect(r.headers.get('x-ratelimit-remaining')).toBe(String(2 - i))
    expect(Number(r.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0)
  }
  const over = await t.req('GET', '/api/workspaces', { token: apiKey })
  expect(over.status).toBe(429)
  expect(over.body.error).toMatch(/Rate limited/)
  expect(over.headers.get('x-ratelimit-remaining')).toBe('0')
  expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
  // Another account of the same owner has its own bucket; the owner's session is untouched.
  expect((await t.req('GET', '/api/workspaces', { token: other })).status).toBe(200)
  expect((await t.req('GET', '/api/workspaces', { token: alice.token })).status).toBe(200)
  // Raising the limit takes effect at once.
  await t.req('PATCH', `/api/bot/manage/${b.id}`, { token: alice.token, body: { rateLimitRpm: 100 } })
  const again = await t.req('GET', '/api/workspaces', { token: apiKey })
  expect(again.status).toBe(200)
  expect(again.headers.get('x-ratelimit-limit')).toBe('100')
})

test('DELETE removes the account with its webhooks, deliveries and memory', async () => {
  const { bot: b, apiKey } = await create(alice.token, { name: 'Doomed', slug: 'doomed', scopes: ['memory.read', 'memory.write'] })
  expect((await t.req('PUT', '/api/bot/memory/k1', { token: apiKey, body: { value: { a: 1 } } })).status).toBe(200)
  const wh = await t.req('POST', `/api/bot/manage/${b.id}/webhooks`, { token: alice.token, body: { url: 'http://127.0.0.1:9/hook', events: ['*'] } })
  expect(wh.status).toBe(201)
  expect((await t.req('POST', `/api/bot/manage/${b.id}/webhooks/${wh.body.webhook.id}/test`, { token: alice.token })).status).toBe(202)
  const count = (sql: string) => t.k.db.query<{ n: number }, [string]>(sql).get(b.id)!.n
  expect(count('SELECT count(*) AS n FROM bot_memory WHERE bot_account_id = ?')).toBe(1)
  expect(count('SELECT count(*) AS n FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE w.bot_account_id = ?')).toBe(1)
  const del = await t.req('DELETE', `/api/bot/manage/${b.id}`, { token: alice.token })
  expect(del.status).toBe(200)
  expect(del.body).toEqual({ deleted: true })
  expect(count('SELECT count(*) AS n FROM bot_memory WHERE bot_account_id = ?')).toBe(0)
  expect(count('SELECT count(*) AS n FROM webhooks WHERE bot_account_id = ?')).toBe(0)
  expect(t.k.db.query<{ n: number }, [string]>('SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = ?').get(wh.body.webhook.id)!.n).toBe(0)
  expect((await t.req('GET', `/api/bot/manage/${b.id}`, { token: alice.token })).status).toBe(404)
  expect((await t.req('GET', '/api/bot/memory/k1', { token: apiKey })).status).toBe(401)
})
