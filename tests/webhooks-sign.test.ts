// The fast paths of the delivery engine keep its guarantees: node:crypto signatures equal the
// standardwebhooks package's byte for byte; a delivery row is committed (visible to another connection)
// before its first attempt; a dispatch lost to a power cut is redone under the same webhook-id; a backlog
// larger than one dispatch batch is delivered once each; the bookkeeping restores the connection's pragmas.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { Webhook } from 'standardwebhooks'
import { testApp } from './helpers'
import { startReceiver } from './fixtures/webhook-receiver'
import { HmacSigner } from '../src/events/sign'
import { eventDeliveryId } from '../src/events/delivery-store'
import { DeliveryEngine } from '../src/events/delivery'

describe('HmacSigner (node:crypto) equals the standardwebhooks package', () => {
  test('the published vector (SECURITY.md)', () => {
    const s = new HmacSigner('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')
    expect(s.native).toBe(true)
    expect(s.sign('msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=')
  })

  const bodies = ['', '{}', '{"text":"héllo wörld — ✓ 🎉 日本語"}', '{"a":"\\u0000\\n\\t"}', JSON.stringify({ big: 'x'.repeat(70_000) })]
  test('300 random secrets (24-64 bytes), ids, timestamps and bodies, including non-ASCII and 70 KB', () => {
    for (let i = 0; i < 300; i++) {
      const secret = 'whsec_' + randomBytes(24 + (i % 41)).toString('base64')
      const id = i % 2 ? `whd_${randomBytes(15).toString('base64url')}` : `msg_${i}`
      const ts = 1_600_000_000 + i * 7919
      const body = i < bodies.length ? bodies[i] : JSON.stringify({ i, r: randomBytes(i % 200).toString('latin1') })
      const ours = new HmacSigner(secret)
      expect(ours.native).toBe(true)
      expect(ours.sign(id, ts, body)).toBe(new Webhook(secret).sign(id, new Date(ts * 1000), body))
    }
  })

  test('a secret the package refuses is refused too', () => {
    expect(() => new HmacSigner('whsec_')).toThrow()
  })
})

describe('eventDeliveryId', () => {
  test('whd_ + 20 URL-safe chars; the same (event, webhook) gives the same id, others differ; ordered by seq', () => {
    const a = eventDeliveryId(7, 'evt_A1', 'wh_X'), b = eventDeliveryId(7, 'evt_A1', 'wh_Y'), c = eventDeliveryId(8, 'evt_B2', 'wh_X')
    for (const id of [a, b, c]) expect(id).toMatch(/^whd_[A-Za-z0-9_-]{20}$/)
    expect(eventDeliveryId(7, 'evt_A1', 'wh_X')).toBe(a)
    expect(new Set([a, b, c]).size).toBe(3)
    expect([c, a].sort()).toEqual([a, c])
    // A seq reused (every event pruned, then a restart) with another event id still makes another id.
    const ids = new Set(Array.from({ length: 5000 }, (_, i) => eventDeliveryId(1, `evt_${i}`, 'wh_X')))
    expect(ids.size).toBe(5000)
  })
})

describe('the engine', () => {
  const t = testApp()
  const rx = startReceiver()
  const engine = new DeliveryEngine(t.k)
  t.k.onClose(() => engine.close())
  let owner: { token: string; id: string }
  let hookId = ''
  const other = new Database(join(t.k.config.dataDir, 'agentbase.db'), { readonly: true })
  /** What another connection sees of a delivery when its request arrives: committed state only. */
  const seenByOther: Array<{ id: string; status: string | null }> = []

  beforeAll(async () => {
    owner = await t.user()
    const r = await t.req('POST', '/api/webhooks', { token: owner.token, body: { url: `${rx.url}/h`, events: ['run.completed'] } })
    expect(r.status).toBe(201)
    rx.secrets.set('/h', r.body.secret)
    hookId = r.body.webhook.id
    rx.respond = (r) => {
      const row = other.query<{ status: string }, [string]>('SELECT status FROM webhook_deliveries WHERE id = ?').get(r.id)
      seenByOther.push({ id: r.id, status: row?.status ?? null })
      return new Response('ok')
    }
  })
  afterAll(() => { other.close(); rx.close(); t.close() })

  const publish = (data: Record<string, unknown>) => t.k.db.transaction(() => t.k.events.publishUnchecked('run.completed', data, { ownerId: owner.id }))()

  test('the delivery row is committed before its first attempt is sent', async () => {
    const e = publish({ run_id: 'committed-first' })
    await engine.runDue()
    expect(rx.received.length).toBe(1)
    expect(rx.received[0].verified).toBe(true)
    expect(rx.received[0].id).toBe(eventDeliveryId(e.seq, e.id, hookId))
    expect(seenByOther).toEqual([{ id: rx.received[0].id, status: 'pending' }])
    const d = t.k.db.query<{ status: string; attempts: number }, [string]>('SELECT status, attempts FROM webhook_deliveries WHERE id = ?').get(rx.received[0].id)
    expect(d).toEqual({ status: 'success', attempts: 1 })
  })

  test('a dispatch undone (power cut before the relaxed commit reached disk) is redone under the same webhook-id', async () => {
    const e = publish({ run_id: 'power-cut' })
    await engine.runDue()
    const first = rx.received.at(-1)!
    expect(first.json.data.run_id).toBe('power-cut')
    // What a lost bookkeeping commit leaves: the event undispatched, no delivery row, no attempt.
    t.k.db.transaction(() => {
      t.k.db.query('DELETE FROM webhook_deliveries WHERE event_id = ?').run(e.id)
      t.k.db.query('UPDATE events SET dispatched_at = NULL WHERE id = ?').run(e.id)
    })()
    await engine.runDue()
    const again = rx.received.at(-1)!
    expect(again.json.data.run_id).toBe('power-cut')
    expect(again.id).toBe(first.id)
    expect(again.verified).toBe(true)
  })

  test('a backlog of several dispatch batches is delivered once each, all verified, with every attempt logged', async () => {
    const before = rx.received.length
    t.k.db.transaction(() => { for (let i = 0; i < 700; i++) t.k.events.publishUnchecked('run.completed', { run_id: `bulk-${i}` }, { ownerId: owner.id }) })()
    await engine.runDue()
    const got = rx.received.slice(before)
    expect(got.length).toBe(700)
    expect(new Set(got.map((r) => r.id)).size).toBe(700)
    expect(new Set(got.map((r) => r.json.data.run_id)).size).toBe(700)
    expect(got.every((r) => r.verified)).toBe(true)
    expect(seenByOther.every((s) => s.status === 'pending')).toBe(true)
    const n = (sql: string) => t.k.db.query<{ n: number }, []>(sql).get()!.n
    expect(n("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'success'")).toBe(702)
    expect(n('SELECT count(*) AS n FROM webhook_delivery_attempts')).toBe(702) // the deleted row's attempt went with it (cascade)
    expect(n('SELECT count(*) AS n FROM events WHERE dispatched_at IS NULL')).toBe(0)
  })

  test('the bookkeeping restores the connection: foreign keys on, synchronous as configured', () => {
    expect(t.k.db.query<{ foreign_keys: number }, []>('PRAGMA foreign_keys').get()!.foreign_keys).toBe(1)
    expect(t.k.db.query<{ synchronous: number }, []>('PRAGMA synchronous').get()!.synchronous).toBe(t.k.config.sync === 'normal' ? 1 : 2)
  })
})
