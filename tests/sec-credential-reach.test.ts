import { afterAll, describe, expect, test } from 'bun:test'
import { testApp } from './helpers'
import { startReceiver } from './fixtures/webhook-receiver'
import { deliveries } from '../src/events/delivery'

/**
 * Issue 11 item 2: a credential can only mint credentials and subscriptions within its own reach. The chain the
 * attacker used: a workspace token mints a bot account, whose bot_ key then reads and deletes the owner's other
 * workspaces; the same token lists and creates owner-wide webhooks that receive other workspaces' events.
 */

const t = testApp()
const rx = startReceiver()
afterAll(() => { rx.close(); t.close() })

const alice = await t.user()
const mkWs = async (name: string) => (await t.req('POST', '/api/workspaces', { token: alice.token, body: { name } })).body.workspace.id as string
const w1 = await mkWs('one')
const w2 = await mkWs('two')
const wsToken = (await t.req('POST', '/api/tokens', { token: alice.token, body: { name: 'w1', type: 'workspace', workspace_id: w1 } })).body.key as string
let n = 0
const slug = () => `bot-${++n}-${Math.random().toString(36).slice(2, 8)}`

describe('the token-escape chain', () => {
  test('a workspace token mints a bot account bound to its workspace; the bot key cannot reach other workspaces', async () => {
    const c = await t.req('POST', '/api/bot/manage', { token: wsToken, body: { name: 'Escape', slug: slug(), scopes: ['workspaces.read', 'workspaces.write'] } })
    expect(c.status).toBe(201)
    expect(c.body.bot.workspaceId).toBe(w1)
    const key = c.body.apiKey as string
    const list = await t.req('GET', '/api/workspaces', { token: key })
    expect(list.status).toBe(200)
    expect(list.body.workspaces.map((w: any) => w.id)).toEqual([w1])
    const del = await t.req('DELETE', `/api/workspaces/${w2}`, { token: key })
    expect(del.status).toBe(404)
    expect((await t.req('GET', `/api/workspaces/${w2}`, { token: alice.token })).status).toBe(200)
  })

  test('a workspace token naming another workspace for the bot account: 404, nothing created', async () => {
    const before = (await t.req('GET', '/api/bot/manage', { token: alice.token })).body.length
    const c = await t.req('POST', '/api/bot/manage', { token: wsToken, body: { name: 'Other', slug: slug(), workspaceId: w2 } })
    expect(c.status).toBe(404)
    expect((await t.req('GET', '/api/bot/manage', { token: alice.token })).body.length).toBe(before)
  })

  test("a workspace token does not see or manage the owner's unbound bot accounts", async () => {
    const owner = await t.req('POST', '/api/bot/manage', { token: alice.token, body: { name: 'Owner-wide', slug: slug() } })
    expect(owner.status).toBe(201)
    expect(owner.body.bot.workspaceId).toBeNull()
    const id = owner.body.bot.id
    const list = await t.req('GET', '/api/bot/manage', { token: wsToken })
    expect(list.body.map((b: any) => b.id)).not.toContain(id)
    for (const [method, path] of [['GET', `/api/bot/manage/${id}`], ['POST', `/api/bot/manage/${id}/regenerate-key`], ['DELETE', `/api/bot/manage/${id}`], ['GET', `/api/bot/manage/${id}/webhooks`]] as const) {
      expect((await t.req(method, path, { token: wsToken })).status).toBe(404)
    }
  })

  test('a workspace token cannot list or create owner-wide webhooks', async () => {
    await t.req('POST', '/api/webhooks', { token: alice.token, body: { url: `${rx.url}/owner`, events: ['*'] } })
    const list = await t.req('GET', '/api/webhooks', { token: wsToken })
    expect(list.status).toBe(403)
    const c = await t.req('POST', '/api/webhooks', { token: wsToken, body: { url: `${rx.url}/spy`, events: ['*'] } })
    expect(c.status).toBe(403)
    expect(c.body.error).toMatch(/workspace/i)
  })
})

describe('scopes are inherited or narrowed, never widened', () => {
  test('a token limited to bots.write cannot mint a bot account with wider scopes', async () => {
    const narrow = (await t.req('POST', '/api/tokens', { token: alice.token, body: { name: 'narrow', scopes: ['bots.write', 'bots.read'] } })).body.key
    const c = await t.req('POST', '/api/bot/manage', { token: narrow, body: { name: 'Wide', slug: slug(), scopes: ['workspaces.write', 'bots.read'] } })
    expect(c.status).toBe(403)
    expect(c.body.error).toContain('workspaces.write')
    const d = await t.req('POST', '/api/bot/manage', { token: narrow, body: { name: 'Default', slug: slug() } })
    expect(d.status).toBe(201)
    expect(d.body.bot.scopes).toEqual(['bots.read']) // the read-only default, cut down to what the token holds
    const p = await t.req('PATCH', `/api/bot/manage/${d.body.bot.id}`, { token: narrow, body: { scopes: ['wallet.read'] } })
    expect(p.status).toBe(403)
  })
})

test("a workspace-bound bot account's webhooks get only the events it caused, not the owner's", async () => {
  const c = await t.req('POST', '/api/bot/manage', { token: wsToken, body: { name: 'Hooked', slug: slug(), scopes: ['bots.read', 'endpoints.read', 'analytics.read', 'conversations.read', 'workflows.read', 'agents.read', 'wallet.read'] } })
  const botId = c.body.bot.id
  const h = await t.req('POST', `/api/bot/manage/${botId}/webhooks`, { token: alice.token, body: { url: `${rx.url}/bound`, events: ['*'] } })
  expect(h.status).toBe(201)
  rx.secrets.set('/bound', h.body.secret)
  t.k.db.transaction(() => {
    t.k.events.publishUnchecked('run.completed', { run_id: 'owner-run' }, { ownerId: alice.id })
    t.k.events.publishUnchecked('run.completed', { run_id: 'bot-run' }, { ownerId: alice.id, botAccountId: botId })
  })()
  await deliveries(t.k).runDue()
  const got = rx.received.filter((r) => r.path === '/bound').map((r) => r.json?.data?.run_id)
  expect(got).toEqual(['bot-run'])
})

test('a workspace token cannot create, change or delete account-wide connections (they serve every workspace)', async () => {
  const con = await t.req('POST', '/api/connections', { token: alice.token, body: { platform: 'http', name: 'Shared API', config: { base_url: `${rx.url}/api` } } })
  expect(con.status).toBe(201)
  const id = con.body.connection.id
  const create = await t.req('POST', '/api/connections', { token: wsToken, body: { platform: 'http', name: 'Sneaky', config: { base_url: `${rx.url}/x` } } })
  expect(create.status).toBe(403)
  expect((await t.req('PATCH', `/api/connections/${id}`, { token: wsToken, body: { name: 'Renamed' } })).status).toBe(403)
  expect((await t.req('DELETE', `/api/connections/${id}`, { token: wsToken })).status).toBe(403)
  expect((await t.req('GET', `/api/connections`, { token: alice.token })).body.connections.map((c: any) => c.name)).toEqual(['Shared API'])
})
