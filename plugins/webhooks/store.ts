import type { Db } from '../../src/db/open'
import { iso } from '../../src/clock'
import type { DeliveryView, WebhookView } from './model'

export interface WebhookRow {
  id: string; owner_id: string; bot_account_id: string | null; url: string; events: string; secret: string; description: string | null
  enabled: number; disabled_reason: string | null; failing_since: string | null; created_at: string; updated_at: string
}

interface DeliveryRow {
  rid: number; id: string; webhook_id: string; event_id: string; event_type: string; payload: string; status: 'pending' | 'success' | 'failed'
  attempts: number; next_attempt_at: string | null; last_status: number | null; last_latency_ms: number | null; last_error: string | null
  delivered_at: string | null; created_at: string; updated_at: string
}

interface AttemptRow { attempt: number; status: number | null; latency_ms: number; response_excerpt: string | null; error: string | null; created_at: string }

/** API timestamps are second precision; the queue keeps milliseconds. */
const sec = (s: string | null) => (s ? iso(Date.parse(s)) : null)

export const toView = (r: WebhookRow): WebhookView => ({
  id: r.id, bot_account_id: r.bot_account_id, url: r.url, events: JSON.parse(r.events), description: r.description, enabled: r.enabled === 1,
  disabled_reason: r.disabled_reason, failing_since: sec(r.failing_since), has_secret: !!r.secret, created_at: r.created_at, updated_at: r.updated_at,
})

export const getById = (db: Db, id: string) => db.query<WebhookRow, [string]>('SELECT * FROM webhooks WHERE id = ?').get(id)

/** ownerId null: every owner (admin tokens); botAccountId undefined: any, null: owner-level only. */
export function list(db: Db, ownerId: string | null, botAccountId: string | undefined): WebhookRow[] {
  return db.query<WebhookRow, [string | null, number, string | null]>(
    `SELECT * FROM webhooks WHERE (?1 IS NULL OR owner_id = ?1) AND (?2 = 0 OR bot_account_id IS ?3) ORDER BY created_at DESC, id`,
  ).all(ownerId, botAccountId === undefined ? 0 : 1, botAccountId ?? null)
}

export const countOwned = (db: Db, ownerId: string) =>
  db.query<{ n: number }, [string]>('SELECT count(*) AS n FROM webhooks WHERE owner_id = ?').get(ownerId)!.n

export function insert(db: Db, r: WebhookRow) {
  db.query(`INSERT INTO webhooks (id, owner_id, bot_account_id, url, events, secret, description, enabled, disabled_reason, failing_since, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .run(r.id, r.owner_id, r.bot_account_id, r.url, r.events, r.secret, r.description, r.enabled, r.disabled_reason, r.failing_since, r.created_at, r.updated_at)
}

export function update(db: Db, r: WebhookRow) {
  db.query('UPDATE webhooks SET url = ?, events = ?, secret = ?, description = ?, enabled = ?, disabled_reason = ?, failing_since = ?, updated_at = ? WHERE id = ?')
    .run(r.url, r.events, r.secret, r.description, r.enabled, r.disabled_reason, r.failing_since, r.updated_at, r.id)
}

export const remove = (db: Db, id: string) => db.query('DELETE FROM webhooks WHERE id = ?').run(id)

export const botAccountActive = (db: Db, id: string) =>
  db.query<{ a: number }, [string]>('SELECT is_active AS a FROM bot_accounts WHERE id = ?').get(id)?.a === 1

// Deliveries

export function insertDelivery(db: Db, d: { id: string; webhook_id: string; event_id: string; event_type: string; payload: string; now: string }) {
  db.query(`INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, payload, status, next_attempt_at, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`)
    .run(d.id, d.webhook_id, d.event_id, d.event_type, d.payload, d.now, d.now, d.now)
}

export const getDelivery = (db: Db, id: string) => db.query<DeliveryRow, [string]>('SELECT * FROM webhook_deliveries WHERE id = ?').get(id)

export function listDeliveries(db: Db, webhookId: string, status: string | null, limit: number) {
  return db.query<DeliveryRow, [string, string | null, number]>(
    // Newest first: rid order is insertion order, which the webhook_id index yields without a sort.
    'SELECT * FROM webhook_deliveries WHERE webhook_id = ?1 AND (?2 IS NULL OR status = ?2) ORDER BY rid DESC LIMIT ?3',
  ).all(webhookId, status, limit)
}

/** Back to pending now, with a fresh retry schedule; the same id (webhook-id) and body. */
export const requeue = (db: Db, id: string, now: string) =>
  db.query("UPDATE webhook_deliveries SET status = 'pending', cycle_attempts = 0, next_attempt_at = ?, updated_at = ? WHERE id = ?").run(now, now, id)

export function deliveryView(db: Db, r: DeliveryRow): DeliveryView {
  const attempts = db.query<AttemptRow, [number]>(
    'SELECT attempt, status, latency_ms, response_excerpt, error, created_at FROM webhook_delivery_attempts WHERE delivery = ? ORDER BY attempt',
  ).all(r.rid)
  return {
    id: r.id, webhook_id: r.webhook_id, event_id: r.event_id, event_type: r.event_type, status: r.status, attempts: r.attempts,
    next_attempt_at: r.status === 'pending' ? sec(r.next_attempt_at) : null, last_status: r.last_status, last_latency_ms: r.last_latency_ms,
    last_error: r.last_error, delivered_at: sec(r.delivered_at), created_at: sec(r.created_at)!, updated_at: sec(r.updated_at)!,
    payload: JSON.parse(r.payload), attempt_log: attempts.map((a) => ({ ...a, created_at: sec(a.created_at)! })),
  }
}
