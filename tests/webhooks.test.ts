// Webhook routes: user-level /api/webhooks and bot-level /api/bot/manage/:botId/webhooks, the event
// catalog, validation (events, URL, secret), secrets shown once and sealed, ownership (404), bot keys,
// and the test event delivered by the running worker to a verifying receiver.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Webhook } from 'standardwebhooks'
import { expectRefused, testApp, until } from './helpers'
import { startReceiver } from './fixtures/webhook-receiver'
import { EVENT_TYPES } from '../src/events/catalog'

const t = testApp()
const rx = startReceiver()
let alice: { token: string; id: string }
let bob: { token: string; id: string }
let botId: string
let botKey: string
let hookId: string
let hookSecret: string
let botHookId: string
let stop: () => Promise<void> | void

beforeAll(async () => {
  alice = await t.user()
  bob = await t.user()
  const b = await t.req('POST', '/api/bot/manage', { token: alice.token, body: { name: 'Hooky', slug: 'hooky', scopes: ['webhooks.manage'] } })
  botId = b.body.bot.id
  botKey = b.body.apiKey
  const h = await t.req('POST', '/api/webhooks', { token: alice.token, body: { url: `${rx.url}/user`, events: ['run.completed', 'run.failed'] } })
  expect(h.status).toBe(201)
  hookId = h.body.webhook.id
  hookSecret = h.body.secret
  rx.secrets.set('/user', hookSecret)
  const bh = await t.req('POST', `/api/bot/manage/${botId}/webhooks`, { token: alice.token, body: { url: `${rx.url}/bot`, events: ['*'] } })
  expect(bh.status).toBe(201)
  botHookId = bh.body.webhook.id
  rx.secrets.set('/bot', bh.body.secret)
  t.k.workers.start('webhooks.delivery')
})
afterAll(async () => { await t.k.workers.stopAll(); rx.close(); t.close() })

test('GET /api/webhooks/events: every catalog event with a description and a payload example', async () => {
  const r = await t.req('GET', '/api/webhooks/events', { token: alice.token })
  expect(r.status).toBe(200)
  expect(r.body.events.map((e: any) => e.type)).toEqual(EVENT_TYPES)
  expect(EVENT_TYPES).toEqual([
    'bot.message.received', 'bot.message.sent', 'bot.conversation.started', 'bot.status.changed', 'run.completed', 'run.failed', 'endpoint.status.changed', 'tool.call.failed', 'wallet.balance.low',
    'workflow.execution.completed', 'workflow.execution.failed', 'agent.task.completed', 'agent.message.received', 'agent.message.sent', 'agent.status.changed', 'agent.skill.installed', 'billing.invoice.created',
    'agent.run.completed', 'agent.run.failed', 'agent.schedule.missed', 'agent.schedule.failing', 'webhook.test',
  ])
  for (const e of r.body.events) {
    expect(e.description.length).toBeGreaterThan(10)
    expect(e.example).toMatchObject({ type: e.type, timestamp: expect.any(String), data: expect.any(Object) })
  }
  expect(r.body.format.headers.join(' ')).toMatch(/webhook-id.*webhook-timestamp.*webhook-signature/)
  expect(r.text).not.toMatch(/whsec_[A-Za-z0-9+/]{20}/)
})

test('create: the generated whsec_ secret is shown once, usable, and sealed at rest', async () => {
  expect(hookSecret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/)
  expect(Buffer.from(hookSecret.slice(6), 'base64').length).toBe(32)
  expect(() => new Webhook(hookSecret)).not.toThrow()
  const list = await t.req('GET', '/api/webhooks', { token: alice.token })
  const one = await t.req('GET', `/api/webhooks/${hookId}`, { token: alice.token })
  expect(one.body.webhook).toMatchObject({ id: hookId, url: `${rx.url}/user`, events: ['run.completed', 'run.failed'], enabled: true, has_secret: true, bot_account_id: null, disabled_reason: null })
  expect(list.text + one.text).not.toContain(hookSecret.slice(6))
  expect(Object.keys(one.body.webhook)).not.toContain('secret')
  t.k.db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
  const bytes = Buffer.concat(['agentbase.db', 'agentbase.db-wal'].map((f) => join(t.dir, f)).filter(existsSync).map((f) => readFileSync(f)))
  expect(bytes.includes(Buffer.from(hookSecret.slice(6)))).toBe(false)
  // A secret the caller chose is accepted and never echoed.
  const own = 'whsec_' + Buffer.alloc(24, 7).toString('base64')
  const r = await t.req('POST', '/api/webhooks', { token: alice.token, body: { url: `${rx.url}/own`, events: ['*'], secret: own } })
  expect(r.status).toBe(201)
  expect(r.body.secret).toBeUndefined()
  expect(r.text).not.toContain(own.slice(6))
  await t.req('DELETE', `/api/webhooks/${r.body.webhook.id}`, { token: alice.token })
})

interface Scenario { name: string; method: string; path: () => string; as: () => string | undefined; body?: unknown; status: number; error?: RegExp }
const post = (body: unknown, as = () => alice.token): Omit<Scenario, 'name' | 'status'> => ({ method: 'POST', path: () => '/api/webhooks', as, body })
const cases: Scenario[] = [
  { name: 'no credentials', method: 'GET', path: () => '/api/webhooks', as: () => undefined, status: 401 },
  { name: 'unknown event lists the valid ones', ...post({ url: 'https://93.184.216.34/h', events: ['agent.task.exploded'] }), status: 400, error: /Unknown event "agent.task.exploded"; valid events: \*, bot.message.received, .*webhook.test/ },
  { name: 'no events', ...post({ url: 'https://93.184.216.34/h', events: [] }), status: 400, error: /events must have at least 1 items/i },
  { name: 'missing url', ...post({ events: ['*'] }), status: 400, error: /url is required/i },
  { name: 'not a URL', ...post({ url: 'not a url', events: ['*'] }), status: 400, error: /Invalid URL/ },
  { name: 'file: URL', ...post({ url: 'file:///etc/passwd', events: ['*'] }), status: 400, error: /scheme "file" is not allowed/ },
  { name: 'link-local metadata address', ...post({ url: 'https://169.254.169.254/latest/meta-data', events: ['*'] }), status: 400, error: /private or reserved address \(169\.254\.169\.254\)/ },
  { name: 'private network address', ...post({ url: 'https://10.0.0.5/hook', events: ['*'] }), status: 400, error: /private or reserved/ },
  { name: 'plain http to a public host', ...post({ url: 'http://93.184.216.34/hook', events: ['*'] }), status: 400, error: /must use https/ },
  { name: 'credentials in the URL', ...post({ url: 'https://user:pw@93.184.216.34/hook', events: ['*'] }), status: 400, error: /must not contain credentials/ },
  { name: 'secret without whsec_', ...post({ url: 'https://93.184.216.34/h', events: ['*'], secret: 'hunter2hunter2hunter2hunter2' }), status: 400, error: /secret must be "whsec_" followed by base64 of 24 to 64/ },
  { name: 'secret too short', ...post({ url: 'https://93.184.216.34/h', events: ['*'], secret: 'whsec_' + Buffer.alloc(8).toString('base64') }), status: 400, error: /24 to 64/ },
  { name: 'secret not base64', ...post({ url: 'https://93.184.216.34/h', events: ['*'], secret: 'whsec_your_secret_here_your_secret_here' }), status: 400, error: /base64/ },
  { name: 'without webhooks.manage scope', ...post({ url: 'https://93.184.216.34/h', events: ['*'] }, () => roKey), status: 403, error: /"webhooks.manage"/ },
  { name: "another user's webhook: GET", method: 'GET', path: () => `/api/webhooks/${hookId}`, as: () => bob.token, status: 404, error: /Webhook not found/ },
  { name: "another user's webhook: PATCH", method: 'PATCH', path: () => `/api/webhooks/${hookId}`, as: () => bob.token, body: { enabled: false }, status: 404 },
  { name: "another user's webhook: DELETE", method: 'DELETE', path: () => `/api/webhooks/${hookId}`, as: () => bob.token, status: 404 },
  { name: "another user's webhook: test", method: 'POST', path: () => `/api/webhooks/${hookId}/test`, as: () => bob.token, status: 404 },
  { name: "another user's webhook: deliveries", method: 'GET', path: () => `/api/webhooks/${hookId}/deliveries`, as: () => bob.token, status: 404 },
  { name: 'PATCH with unknown events', method: 'PATCH', path: () => `/api/webhooks/${hookId}`, as: () => alice.token, body: { events: ['nope'] }, status: 400, error: /Unknown event "nope"/ },
  { name: 'PATCH to a refused URL', method: 'PATCH', path: () => `/api/webhooks/${hookId}`, as: () => alice.token, body: { url: 'https://169.254.169.254/' }, status: 400, error: /private or reserved/ },
  { name: 'deliveries: bad status filter', method: 'GET', path: () => `/api/webhooks/${hookId}/deliveries?status=lost`, as: () => alice.token, status: 400 },
  // Bot-level routes: owners only.
  { name: "bot-level: another user's bot", method: 'GET', path: () => `/api/bot/manage/${botId}/webhooks`, as: () => bob.token, status: 404, error: /Bot account not found/ },
  { name: 'bot-level: a bot key cannot manage them', method: 'GET', path: () => `/api/bot/manage/${botId}/webhooks`, as: () => botKey, status: 403, error: /Bot account keys cannot manage/ },
  { name: 'bot-level: user webhook id under a bot', method: 'PATCH', path: () => `/api/bot/manage/${botId}/webhooks/${hookId}`, as: () => alice.token, body: { enabled: false }, status: 404 },
  { name: 'bot-level: unknown events', method: 'POST', path: () => `/api/bot/manage/${botId}/webhooks`, as: () => alice.token, body: { url: 'https://93.184.216.34/h', events: ['bot.exploded'] }, status: 400, error: /valid events/ },
]
let roKey: string

describe('route walk: errors are clear, right status, nothing written', () => {
  beforeAll(async () => {
    roKey = (await t.req('POST', '/api/tokens', { token: alice.token, body: { name: 'ro', scopes: ['bots.read'] } })).body.key
  })
  for (const c of cases) {
    test(c.name, () => expectRefused(t, c))
  }
})

test('user-level: test event delivered by the worker, listed in deliveries with its attempt', async () => {
  const r = await t.req('POST', `/api/webhooks/${hookId}/test`, { token: alice.token })
  expect(r.status).toBe(202)
  expect(r.body.delivery).toMatchObject({ webhook_id: hookId, event_type: 'webhook.test', status: 'pending', attempts: 0 })
  await rx.waitFor(1)
  const got = rx.received.find((x) => x.id === r.body.delivery.id)!
  expect(got.verified).toBe(true)
  expect(got.json).toMatchObject({ type: 'webhook.test', data: { webhook_id: hookId } })
  let list: any[] = []
  for (let i = 0; i < 200 && list[0]?.status !== 'success'; i++) {
    await Bun.sleep(10)
    list = (await t.req('GET', `/api/webhooks/${hookId}/deliveries`, { token: alice.token })).body.deliveries
  }
  expect(list[0]).toMatchObject({ id: r.body.delivery.id, status: 'success', attempts: 1, last_status: 200 })
  expect(list[0].attempt_log).toHaveLength(1)
  expect(list[0].payload).toEqual(got.json)
  const failedOnly = await t.req('GET', `/api/webhooks/${hookId}/deliveries?status=failed`, { token: alice.token })
  expect(failedOnly.body.deliveries).toEqual([])
})

test('bot-level: list, test, deliveries, PATCH, DELETE under /api/bot/manage/:botId/webhooks', async () => {
  const list = await t.req('GET', `/api/bot/manage/${botId}/webhooks`, { token: alice.token })
  expect(list.status).toBe(200)
  expect(list.body.webhooks.map((w: any) => w.id)).toEqual([botHookId])
  expect(list.body.webhooks[0].bot_account_id).toBe(botId)
  const test202 = await t.req('POST', `/api/bot/manage/${botId}/webhooks/${botHookId}/test`, { token: alice.token })
  expect(test202.status).toBe(202)
  await until(() => rx.received.some((x) => x.id === test202.body.delivery.id), 5000, 'the test delivery')
  expect(rx.received.find((x) => x.id === test202.body.delivery.id)?.verified).toBe(true)
  const dels = await t.req('GET', `/api/bot/manage/${botId}/webhooks/${botHookId}/deliveries`, { token: alice.token })
  expect(dels.status).toBe(200)
  expect(dels.body.deliveries[0].id).toBe(test202.body.delivery.id)
  const patched = await t.req('PATCH', `/api/bot/manage/${botId}/webhooks/${botHookId}`, { token: alice.token, body: { events: ['bot.message.received'], description: 'inbound' } })
  expect(patched.status).toBe(200)
  expect(patched.body.webhook).toMatchObject({ events: ['bot.message.received'], description: 'inbound' })
  // The user-level list shows the owner's bot webhooks too.
  expect((await t.req('GET', '/api/webhooks', { token: alice.token })).body.webhooks.map((w: any) => w.id)).toContain(botHookId)
  const del = await t.req('DELETE', `/api/bot/manage/${botId}/webhooks/${botHookId}`, { token: alice.token })
  expect(del.body).toEqual({ deleted: true })
  expect((await t.req('GET', `/api/bot/manage/${botId}/webhooks`, { token: alice.token })).body.webhooks).toEqual([])
})

test('a bot key on /api/webhooks reaches only its own account\'s webhooks', async () => {
  const created = await t.req('POST', '/api/webhooks', { token: botKey, body: { url: `${rx.url}/by-bot`, events: ['bot.message.sent'] } })
  expect(created.status).toBe(201)
  expect(created.body.webhook.bot_account_id).toBe(botId)
  const mine = await t.req('GET', '/api/webhooks', { token: botKey })
  expect(mine.body.webhooks.map((w: any) => w.id)).toEqual([created.body.webhook.id])
  expect((await t.req('GET', `/api/webhooks/${hookId}`, { token: botKey })).status).toBe(404)
  expect((await t.req('GET', `/api/bot/manage/${botId}/webhooks`, { token: alice.token })).body.webhooks.map((w: any) => w.id)).toEqual([created.body.webhook.id])
})

test('PATCH replaces url, events, secret; disabling records a reason; DELETE removes it and its log', async () => {
  const newSecret = 'whsec_' + Buffer.alloc(32, 9).toString('base64')
  const r = await t.req('PATCH', `/api/webhooks/${hookId}`, { token: alice.token, body: { url: `${rx.url}/moved`, events: ['*'], secret: newSecret } })
  expect(r.status).toBe(200)
  expect(r.body.webhook).toMatchObject({ url: `${rx.url}/moved`, events: ['*'] })
  expect(r.text).not.toContain(newSecret.slice(6))
  rx.secrets.set('/moved', newSecret)
  const sent = await t.req('POST', `/api/webhooks/${hookId}/test`, { token: alice.token })
  await until(() => rx.received.some((x) => x.id === sent.body.delivery.id), 5000, 'the test delivery')
  expect(rx.received.find((x) => x.id === sent.body.delivery.id)).toMatchObject({ path: '/moved', verified: true })
  const off = await t.req('PATCH', `/api/webhooks/${hookId}`, { token: alice.token, body: { enabled: false } })
  expect(off.body.webhook).toMatchObject({ enabled: false, disabled_reason: 'Disabled by its owner' })
  const del = await t.req('DELETE', `/api/webhooks/${hookId}`, { token: alice.token })
  expect(del.body).toEqual({ deleted: true })
  expect((await t.req('GET', `/api/webhooks/${hookId}`, { token: alice.token })).status).toBe(404)
  expect(t.k.db.query<{ n: number }, [string]>('SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = ?').get(hookId)!.n).toBe(0)
})

test("an inactive bot account's webhooks are paused: test and retry answer 409 with the reason", async () => {
  const b = await t.req('POST', '/api/bot/manage', { token: alice.token, body: { name: 'Napper', slug: 'napper' } })
  const h = await t.req('POST', `/api/bot/manage/${b.body.bot.id}/webhooks`, { token: alice.token, body: { url: `${rx.url}/napper`, events: ['*'] } })
  await t.req('PATCH', `/api/bot/manage/${b.body.bot.id}`, { token: alice.token, body: { isActive: false } })
  const r = await t.req('POST', `/api/bot/manage/${b.body.bot.id}/webhooks/${h.body.webhook.id}/test`, { token: alice.token })
  expect(r.status).toBe(409)
  expect(r.body.error).toMatch(/bot account is inactive/)
  await t.req('PATCH', `/api/bot/manage/${b.body.bot.id}`, { token: alice.token, body: { isActive: true } })
  expect((await t.req('POST', `/api/bot/manage/${b.body.bot.id}/webhooks/${h.body.webhook.id}/test`, { token: alice.token })).status).toBe(202)
})
