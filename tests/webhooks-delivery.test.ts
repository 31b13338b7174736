// Delivery semantics with a ManualClock (no sleeping): Standard Webhooks signatures verified by the
// receiver, event filters, retries on the schedule, final failure, manual retry, 410, Retry-After,
// redirects, disable-after-days, timeouts, the per-URL concurrency limit and the published test vector.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Webhook } from 'standardwebhooks'
import { testApp, until, type TestApp } from './helpers'
import { startReceiver, type Receiver } from './fixtures/webhook-receiver'
import { ManualClock } from '../src/clock'
import { DeliveryEngine, deliveries, RETRY_SCHEDULE_MS } from '../src/events/delivery'

const clock = new ManualClock(Date.now())
const t = testApp({ clock, config: { webhookDisableAfterDays: 3 } })
// A short per-attempt timeout for the hanging-receiver case; everything else is as in production.
const engine = new DeliveryEngine(t.k, { timeoutMs: 400 })
t.k.onClose(() => engine.close())
const rx = startReceiver({ clock })
let alice: { token: string; id: string }
let pat: string // personal token: survives moving the clock by days (JWTs last 24 h)
let bob: { token: string; id: string }
let bobPat: string
let n = 0

beforeAll(async () => {
  alice = await t.user()
  bob = await t.user()
  pat = (await t.req('POST', '/api/tokens', { token: alice.token, body: { name: 'tests' } })).body.key
  bobPat = (await t.req('POST', '/api/tokens', { token: bob.token, body: { name: 'tests' } })).body.key
})
afterAll(() => { rx.close(); t.close() })

/** A webhook at a fresh receiver path, with its secret registered at the receiver. */
async function hook(events: string[] = ['*'], opts: { token?: string; bot?: string; secret?: string } = {}) {
  const path = `/h${++n}`
  const url = opts.bot ? `/api/bot/manage/${opts.bot}/webhooks` : '/api/webhooks'
  const r = await t.req('POST', url, { token: opts.token ?? pat, body: { url: rx.url + path, events, ...(opts.secret ? { secret: opts.secret } : {}) } })
  if (r.status !== 201) throw new Error(`webhook create failed ${r.status} ${r.text}`)
  rx.secrets.set(path, opts.secret ?? r.body.secret)
  return { id: r.body.webhook.id as string, path }
}

const publish = (type: string, data: Record<string, unknown>, ownerId = alice.id, botAccountId?: string) =>
  t.k.db.transaction(() => t.k.events.publishUnchecked(type, data, { ownerId, botAccountId }))()
const at = (path: string) => rx.received.filter((r) => r.path === path)
const deliveriesOf = async (id: string, token = pat) => (await t.req('GET', `/api/webhooks/${id}/deliveries`, { token })).body.deliveries as any[]
const advance = (ms: number) => clock.advance(Math.ceil(ms * 1.1) + 1) // the schedule plus its jitter

test('a published event is delivered once, signed per Standard Webhooks, body { type, timestamp, data }', async () => {
  const h = await hook(['run.completed'])
  const e = publish('run.completed', { run_id: 'run_1', cost_cents: 0.5 })
  await engine.runDue()
  const got = at(h.path)
  expect(got.length).toBe(1)
  expect(got[0].verified).toBe(true)
  expect(got[0].error).toBeNull()
  expect(got[0].json).toEqual({ type: 'run.completed', timestamp: e.created_at, data: { run_id: 'run_1', cost_cents: 0.5 } })
  expect(got[0].headers['content-type']).toBe('application/json')
  expect(got[0].timestamp).toBe(String(Math.floor(clock.now() / 1000)))
  const [d] = await deliveriesOf(h.id)
  expect(got[0].id).toBe(d.id)
  expect(d).toMatchObject({ status: 'success', attempts: 1, event_id: e.id, event_type: 'run.completed', last_status: 200, next_attempt_at: null })
  expect(d.attempt_log).toEqual([{ attempt: 1, status: 200, latency_ms: expect.any(Number), response_excerpt: 'ok', error: null, created_at: expect.any(String) }])
  expect(t.k.db.query<{ d: string | null }, [string]>('SELECT dispatched_at AS d FROM events WHERE id = ?').get(e.id)!.d).not.toBeNull()
  await engine.runDue()
  expect(at(h.path).length).toBe(1) // dispatched once, delivered once
})

test('filters: event names, "*", other owners; bot-level webhooks: own events + what the scopes can read', async () => {
  const failedOnly = await hook(['run.failed'])
  const all = await hook(['*'])
  const bobs = await hook(['*'], { token: bobPat })
  const acct = await t.req('POST', '/api/bot/manage', { token: pat, body: { name: 'B', slug: 'filter-bot', scopes: ['memory.read'] } })
  const reader = await t.req('POST', '/api/bot/manage', { token: pat, body: { name: 'C', slug: 'filter-bot-2', scopes: ['endpoints.read'] } })
  const botHook = await hook(['run.completed'], { bot: acct.body.bot.id })
  const readerHook = await hook(['*'], { bot: reader.body.bot.id })
  publish('run.completed', { run_id: 'plain' })
  publish('run.completed', { run_id: 'from-bot' }, alice.id, acct.body.bot.id)
  publish('run.completed', { run_id: 'from-reader' }, alice.id, reader.body.bot.id)
  publish('run.failed', { run_id: 'f' })
  publish('tool.call.failed', { run_id: 'tool' })
  await engine.runDue()
  const runs = (path: string) => at(path).map((r) => r.json.data.run_id).sort()
  expect(runs(failedOnly.path)).toEqual(['f'])
  expect(runs(all.path)).toEqual(['f', 'from-bot', 'from-reader', 'plain', 'tool'])
  expect(runs(bobs.path)).toEqual([])
  // No endpoints.read: only the event the account itself caused.
  expect(runs(botHook.path)).toEqual(['from-bot'])
  // endpoints.read: the owner's run/endpoint events (not another account's, not tool events) and its own.
  expect(runs(readerHook.path)).toEqual(['f', 'from-reader', 'plain'])
  for (const p of [failedOnly, all, botHook, readerHook]) expect(at(p.path).every((r) => r.verified)).toBe(true)
  // Disabled webhooks, and webhooks of an inactive bot account, get nothing.
  await t.req('PATCH', `/api/webhooks/${all.id}`, { token: pat, body: { enabled: false } })
  await t.req('PATCH', `/api/bot/manage/${reader.body.bot.id}`, { token: pat, body: { isActive: false } })
  publish('run.failed', { run_id: 'g' })
  await engine.runDue()
  expect(runs(all.path)).toEqual(['f', 'from-bot', 'from-reader', 'plain', 'tool'])
  expect(runs(readerHook.path)).toEqual(['f', 'from-reader', 'plain'])
  expect(runs(failedOnly.path)).toEqual(['f', 'g'])
  for (const h of [failedOnly, all, botHook, readerHook]) await t.req('DELETE', `/api/webhooks/${h.id}`, { token: pat })
})

test('retries on the schedule against a receiver that fails twice, then succeeds: one webhook-id', async () => {
  const h = await hook(['run.failed'])
  rx.respond = (r, count) => (r.path === h.path && count <= 2 ? new Response('busy', { status: 500 }) : new Response('ok'))
  publish('run.failed', { run_id: 'r' })
  await engine.runDue()
  expect(at(h.path).length).toBe(1)
  let [d] = await deliveriesOf(h.id)
  expect(d.status).toBe('pending')
  expect(Date.parse(d.next_attempt_at) - clock.now()).toBeGreaterThanOrEqual(4000)
  await engine.runDue() // not due yet: nothing happens
  expect(at(h.path).length).toBe(1)
  advance(RETRY_SCHEDULE_MS[1])
  await engine.runDue()
  expect(at(h.path).length).toBe(2)
  advance(RETRY_SCHEDULE_MS[2])
  await engine.runDue()
  const got = at(h.path)
  expect(got.length).toBe(3)
  expect(new Set(got.map((r) => r.id)).size).toBe(1)
  expect(new Set(got.map((r) => r.timestamp)).size).toBe(3) // a new timestamp per attempt
  expect(got.every((r) => r.verified)).toBe(true)
  expect(new Set(got.map((r) => r.body)).size).toBe(1)
  ;[d] = await deliveriesOf(h.id)
  expect(d).toMatchObject({ id: got[0].id, status: 'success', attempts: 3, last_status: 200 })
  expect(d.attempt_log.map((a: any) => [a.attempt, a.status, a.response_excerpt])).toEqual([[1, 500, 'busy'], [2, 500, 'busy'], [3, 200, 'ok']])
  expect(d.attempt_log[0].error).toBe('The endpoint answered 500')
  const wh = (await t.req('GET', `/api/webhooks/${h.id}`, { token: pat })).body.webhook
  expect(wh.failing_since).toBeNull() // success clears it
  rx.respond = () => new Response('ok')
})

test('after the whole schedule the delivery is failed; a manual retry sends it again with the same id', async () => {
  const h = await hook(['tool.call.failed'])
  rx.respond = (r) => (r.path === h.path ? new Response('nope', { status: 503 }) : new Response('ok'))
  publish('tool.call.failed', { tool: 'x' })
  await engine.runDue()
  for (let i = 1; i < RETRY_SCHEDULE_MS.length; i++) {
    advance(RETRY_SCHEDULE_MS[i])
    await engine.runDue()
  }
  expect(at(h.path).length).toBe(RETRY_SCHEDULE_MS.length)
  let [d] = await deliveriesOf(h.id)
  expect(d).toMatchObject({ status: 'failed', attempts: 8, next_attempt_at: null, last_status: 503 })
  expect(d.attempt_log.length).toBe(8)
  clock.advance(48 * 3600_000)
  await engine.runDue()
  expect(at(h.path).length).toBe(8) // nothing more
  // Manual retry: 202, pending, then delivered with the same webhook-id.
  rx.respond = () => new Response('ok')
  const r = await t.req('POST', `/api/webhooks/deliveries/${d.id}/retry`, { token: pat })
  expect(r.status).toBe(202)
  expect(r.body.delivery.status).toBe('pending')
  await engine.runDue()
  ;[d] = await deliveriesOf(h.id)
  expect(d).toMatchObject({ status: 'success', attempts: 9 })
  expect(new Set(at(h.path).map((x) => x.id))).toEqual(new Set([d.id]))
  expect((await t.req('POST', `/api/webhooks/deliveries/${d.id}/retry`, { token: bobPat })).status).toBe(404)
  expect((await t.req('POST', '/api/webhooks/deliveries/whd_missing/retry', { token: pat })).status).toBe(404)
})

test('410 Gone disables the webhook with a reason; nothing more is sent until it is re-enabled', async () => {
  const h = await hook(['run.failed'])
  rx.respond = (r) => (r.path === h.path ? new Response('gone', { status: 410 }) : new Response('ok'))
  publish('run.failed', { run_id: 'gone-1' })
  await engine.runDue()
  const wh = (await t.req('GET', `/api/webhooks/${h.id}`, { token: pat })).body.webhook
  expect(wh.enabled).toBe(false)
  expect(wh.disabled_reason).toMatch(/410 Gone/)
  const [d] = await deliveriesOf(h.id)
  expect(d).toMatchObject({ status: 'failed', attempts: 1, last_status: 410 })
  publish('run.failed', { run_id: 'gone-2' })
  advance(RETRY_SCHEDULE_MS[1])
  await engine.runDue()
  expect(at(h.path).length).toBe(1)
  const test410 = await t.req('POST', `/api/webhooks/${h.id}/test`, { token: pat })
  expect(test410.status).toBe(409)
  expect(test410.body.error).toMatch(/disabled.*410/)
  expect((await t.req('POST', `/api/webhooks/deliveries/${d.id}/retry`, { token: pat })).status).toBe(409)
  rx.respond = () => new Response('ok')
  const on = await t.req('PATCH', `/api/webhooks/${h.id}`, { token: pat, body: { enabled: true } })
  expect(on.body.webhook).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null })
  expect((await t.req('POST', `/api/webhooks/${h.id}/test`, { token: pat })).status).toBe(202)
  await engine.runDue()
  expect(at(h.path).at(-1)!.json.type).toBe('webhook.test')
})

test('Retry-After is honoured when longer than the schedule', async () => {
  const h = await hook(['run.failed'])
  rx.respond = (r, count) => (r.path === h.path && count === 1 ? new Response('slow down', { status: 429, headers: { 'retry-after': '600' } }) : new Response('ok'))
  publish('run.failed', { run_id: 'ra' })
  await engine.runDue()
  const [d] = await deliveriesOf(h.id)
  expect(Date.parse(d.next_attempt_at) - clock.now()).toBeGreaterThanOrEqual(599_000)
  advance(RETRY_SCHEDULE_MS[1])
  await engine.runDue()
  expect(at(h.path).length).toBe(1)
  clock.advance(600_000)
  await engine.runDue()
  expect(at(h.path).length).toBe(2)
  rx.respond = () => new Response('ok')
})

test('3xx is a failure and the redirect is not followed', async () => {
  const h = await hook(['run.failed'])
  rx.secrets.set('/elsewhere', 'whsec_' + Buffer.alloc(32).toString('base64'))
  rx.respond = (r) => (r.path === h.path ? new Response(null, { status: 302, headers: { location: `${rx.url}/elsewhere` } }) : new Response('ok'))
  publish('run.failed', { run_id: 'redirect' })
  await engine.runDue()
  const [d] = await deliveriesOf(h.id)
  expect(d).toMatchObject({ status: 'pending', last_status: 302 })
  expect(d.last_error).toMatch(/redirect.*not followed/)
  expect(at('/elsewhere').length).toBe(0)
  rx.respond = () => new Response('ok')
  advance(RETRY_SCHEDULE_MS[1])
  await engine.runDue()
})

test('a webhook failing continuously for webhookDisableAfterDays is disabled with a reason', async () => {
  const h = await hook(['run.failed'])
  rx.respond = (r) => (r.path === h.path ? new Response('down', { status: 500 }) : new Response('ok'))
  publish('run.failed', { run_id: 'd1' })
  await engine.runDue()
  const first = (await t.req('GET', `/api/webhooks/${h.id}`, { token: pat })).body.webhook
  expect(first.failing_since).not.toBeNull()
  expect(first.enabled).toBe(true)
  clock.advance(3 * 86400_000 + 1000) // the first delivery's retries are spent by now
  publish('run.failed', { run_id: 'd2' })
  await engine.runDue()
  const wh = (await t.req('GET', `/api/webhooks/${h.id}`, { token: pat })).body.webhook
  expect(wh.enabled).toBe(false)
  expect(wh.disabled_reason).toMatch(/failed continuously since .* \(3 days or more\)/)
  expect(wh.failing_since).toBe(first.failing_since)
  rx.respond = () => new Response('ok')
})

test('an endpoint that never answers times out; the attempt is logged with the error', async () => {
  const h = await hook(['run.failed'])
  let release!: () => void
  const hang = new Promise<void>((r) => { release = r })
  rx.respond = async (r) => {
    if (r.path === h.path) await hang
    return new Response('ok')
  }
  publish('run.failed', { run_id: 'hang' })
  await engine.runDue()
  release()
  const [d] = await deliveriesOf(h.id)
  expect(d.status).toBe('pending')
  expect(d.last_status).toBeNull()
  expect(d.attempt_log[0].error).toMatch(/timed out after 400 ms/)
  rx.respond = () => new Response('ok')
})

test('at most perUrl attempts are in flight to one URL', async () => {
  const h = await hook(['bot.message.sent'])
  let release!: () => void
  const gate = new Promise<void>((r) => { release = r })
  rx.maxOpen = 0
  rx.respond = async () => { await gate; return new Response('ok') }
  const wide = new DeliveryEngine(t.k, { perUrl: 3, timeoutMs: 10_000 })
  for (let i = 0; i < 10; i++) publish('bot.message.sent', { i })
  const done = wide.runDue()
  await until(() => rx.open >= 3, 5000, 'three open requests')
  await Bun.sleep(50)
  expect(rx.open).toBe(3)
  release()
  await done
  expect(rx.maxOpen).toBe(3)
  expect(at(h.path).length).toBe(10)
  expect((await deliveriesOf(h.id)).every((d) => d.status === 'success')).toBe(true)
  wide.close()
  rx.respond = () => new Response('ok')
})

describe('the published Standard Webhooks vector (SECURITY.md)', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
  const expected = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='

  test('the library signs it', () => {
    expect(new Webhook(secret).sign('msg_p5jXN8AQM9LWM0D4loKWxJek', new Date(1614265330 * 1000), '{"test": 2432232314}')).toBe(expected)
  })

  test('our delivery engine sends exactly that signature', async () => {
    const h = await hook(['run.failed'], { secret })
    const saved = clock.now()
    clock.set(1614265330 * 1000)
    t.k.db.query(`INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, payload, status, next_attempt_at, created_at, updated_at)
                  VALUES ('msg_p5jXN8AQM9LWM0D4loKWxJek', ?, 'evt_vector', 'run.failed', '{"test": 2432232314}', 'pending', '2021-01-01T00:00:00.000Z', '2021-01-01T00:00:00.000Z', '2021-01-01T00:00:00.000Z')`).run(h.id)
    await engine.runDue()
    clock.set(saved)
    const [r] = at(h.path)
    expect(r.id).toBe('msg_p5jXN8AQM9LWM0D4loKWxJek')
    expect(r.timestamp).toBe('1614265330')
    expect(r.signature).toBe(expected)
    expect(r.body).toBe('{"test": 2432232314}')
    expect(r.verified).toBe(true)
  })
})

test('every delivery the receiver got in this file verified', () => {
  const bad = rx.received.filter((r) => r.path !== '/elsewhere' && !r.verified)
  expect(bad).toEqual([])
  expect(rx.received.length).toBeGreaterThan(30)
})

/** Runs `fn` with the delivery worker started, as `serve` runs it, and stops the worker after. */
async function withWorker(fn: () => Promise<void>) {
  const stop = deliveries(t.k).start()
  try { await fn() } finally { await stop() }
}

/** Milliseconds until the first delivery reaches `path`. */
async function msUntilDelivered(path: string, timeoutMs: number) {
  const t0 = performance.now()
  await until(() => at(path).length >= 1, timeoutMs, 'the delivery')
  return performance.now() - t0
}

test('the worker wakes on publish: delivered without calling runDue', async () => {
  const h = await hook(['bot.status.changed'])
  await withWorker(async () => {
    publish('bot.status.changed', { bot_id: 'bt_1', status: 'active' })
    await msUntilDelivered(h.path, 5000)
    expect(at(h.path).length).toBe(1)
    expect(at(h.path)[0].verified).toBe(true)
  })
})

test('published inside a transaction that commits a turn later (group commit): delivered at once, not at the idle poll', async () => {
  const h = await hook(['bot.status.changed'])
  await withWorker(async () => {
    await Bun.sleep(50) // the loop is idle and asleep (its fallback wake-up is a second away)
    // As the run service's group commit does: the transaction stays open past the bus's nudge.
    t.k.db.exec('BEGIN')
    t.k.events.publishUnchecked('bot.status.changed', { bot_id: 'bt_2', status: 'paused' }, { ownerId: alice.id })
    await Bun.sleep(5)
    t.k.db.exec('COMMIT')
    // Before the fix it waited for the loop's idle wake-up (up to 1,000 ms); now a retry follows within ms.
    expect(await msUntilDelivered(h.path, 5000)).toBeLessThan(500)
  })
})

test('a backlog of undispatched events (the worker was stopped) is worked through at once, not a batch per wake-up', async () => {
  const carol = await t.user() // no webhooks: her events match nothing, as most of a real backlog does
  t.k.db.transaction(() => { for (let i = 0; i < 1500; i++) t.k.events.publishUnchecked('bot.status.changed', { bot_id: `bt_${i}`, status: 'active' }, { ownerId: carol.id }) })()
  const h = await hook(['bot.status.changed'])
  await withWorker(async () => {
    publish('bot.status.changed', { bot_id: 'bt_after_backlog', status: 'active' })
    // Before the fix the loop dispatched one batch (256 events) per wake-up and slept up to a second between them.
    expect(await msUntilDelivered(h.path, 10_000)).toBeLessThan(500)
  })
})

test('delivery ids: whd_ + 20 URL-safe chars, time-ordered, random tail', async () => {
  const { deliveryId } = await import('../src/events/delivery-store')
  const a = deliveryId(1_700_000_000_000), b = deliveryId(1_700_000_000_001), c = deliveryId(1_800_000_000_000)
  for (const id of [a, b, c]) expect(id).toMatch(/^whd_[A-Za-z0-9_-]{20}$/)
  expect([c, a, b].sort()).toEqual([a, b, c])
  expect(new Set(Array.from({ length: 1000 }, () => deliveryId(1_700_000_000_000))).size).toBe(1000)
})
