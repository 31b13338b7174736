import type { Db } from '../db/open'
import { botAccountSees, subscribes } from './catalog'
import { withJitter } from '../http/retry'
import { SORTABLE, sortableHead, timeOrderedId } from '../db/ids'

/**
 * Delivery ids (also the `webhook-id` header): time-ordered like timeOrderedId (src/db/ids.ts), so the
 * unique id index writes land on a few adjacent pages instead of one random page
 * per delivery, which is most of the cost of recording a batch.
 */
export const deliveryId = (nowMs: number, prefix = 'whd'): string => timeOrderedId(prefix, nowMs)

/**
 * Bookkeeping of the queue itself (dispatching outbox events into deliveries, recording attempt
 * results) may skip the fsync: WAL commits stay atomic and ordered, so a power cut can only drop the
 * newest bookkeeping together (the events go back to undispatched, an attempt's result is forgotten),
 * and the delivery is then sent again with the same webhook-id: at-least-once holds. The events
 * themselves are committed by their domains at the configured durability. Event deliveries have ids
 * derived from (event, webhook) (`eventDeliveryId`), so a dispatch undone that way is redone under the
 * same webhook-id.
 *
 * Foreign-key enforcement is also off inside these transactions (restored after): their writes satisfy
 * the keys by construction (a delivery is inserted for a webhook read in the same transaction; an
 * attempt is logged only when the update of its delivery changed a row) and they delete nothing, so
 * the checks are pure cost (about 4-5 us per delivery). Every other statement runs with them on.
 */
export function relaxed<T>(db: Db, fn: () => T): T {
  const saved = modes.get(db) ?? remember(db)
  // PRAGMA foreign_keys is a no-op inside a transaction; only switch it when we open the outermost one.
  const fkOff = saved.fk && !db.inTransaction
  db.exec('PRAGMA synchronous = NORMAL')
  if (fkOff) db.exec('PRAGMA foreign_keys = OFF')
  try {
    return db.transaction(fn)()
  } finally {
    db.exec(`PRAGMA synchronous = ${saved.sync}`)
    if (fkOff) db.exec('PRAGMA foreign_keys = ON')
  }
}
const modes = new WeakMap<Db, { sync: string; fk: boolean }>()
function remember(db: Db) {
  const v = db.query<{ synchronous: number }, []>('PRAGMA synchronous').get()?.synchronous
  const fk = db.query<{ foreign_keys: number }, []>('PRAGMA foreign_keys').get()?.foreign_keys === 1
  const m = { sync: v === 1 ? 'NORMAL' : v === 3 ? 'EXTRA' : v === 0 ? 'OFF' : 'FULL', fk }
  modes.set(db, m)
  return m
}
/** Remembers the connection's configured modes (read once, outside our transactions) so `relaxed` restores them. */
export function rememberSync(db: Db) {
  if (!modes.has(db)) remember(db)
}

/** Retry schedule (Standard Webhooks practice): delay before attempt n+1; after the last, the delivery fails. */
export const RETRY_SCHEDULE_MS = [0, 5_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000, 5 * 3600_000, 10 * 3600_000, 10 * 3600_000]
export const MAX_ATTEMPTS = RETRY_SCHEDULE_MS.length
/** Upper bound for a receiver's Retry-After. */
export const MAX_RETRY_AFTER_MS = 24 * 3600_000

/** Millisecond ISO (sorts as text); API views drop the milliseconds. */
export const isoMs = (ms: number) => new Date(ms).toISOString()

export interface DueDelivery {
  id: string; webhook_id: string; payload: string; attempts: number; cycle_attempts: number
  url: string; secret: string
  /** The row's rowid when known (a faster update than by id; checked against the id, so a stale one is harmless). */
  rowid?: number
}

export interface AttemptResult {
  delivery: DueDelivery
  at: number
  status: number | null
  latencyMs: number
  excerpt: string | null
  error: string | null
  retryAfterMs: number | null
}

interface EventRow { rid: number; id: string; seq: number; type: string; owner_id: string; bot_account_id: string | null; data: string; created_at: string }
interface HookRow { id: string; bot_account_id: string | null; events: string; url: string; secret: string; bot_scopes: string | null; bot_active: number | null }

/** The exact body of every attempt: `{ type, timestamp, data }` (data is the publisher's JSON, verbatim). */
export const payloadOf = (type: string, timestamp: string, dataJson: string) =>
  `{"type":${JSON.stringify(type)},"timestamp":${JSON.stringify(timestamp)},"data":${dataJson}}`

/**
 * The delivery id (and `webhook-id`) of an outbox event for one webhook, derived from the pair: if the
 * dispatch of an event is lost (a power cut can undo a `synchronous=NORMAL` commit, see `relaxed`), the
 * event is dispatched again under the same id, so a receiver deduplicates the resend. `whd_` + 8 chars
 * of the event's seq (in order, like `deliveryId`'s time: adjacent index pages) + 12 chars (72 bits) of
 * three 32-bit hashes of the event id and webhook id (event ids are random, so a seq reused after every
 * event was pruned still makes another id).
 */
export function eventDeliveryId(seq: number, eventId: string, webhookId: string): string {
  let out = 'whd_' + sortableHead(seq)
  const key = eventId + '\n' + webhookId
  for (let seed = 1; seed <= 3; seed++) {
    let h = Bun.hash.murmur32v3(key, seed) // 3 x 24 bits
    for (let i = 0; i < 4; i++) { out += SORTABLE[h & 63]; h >>>= 6 }
  }
  return out
}

/** Deliveries made by one dispatch: the events read (all of them marked dispatched) and the rows inserted. */
export interface Dispatched { events: number; created: DueDelivery[] }

/**
 * Turns undispatched outbox events into deliveries for the owner's matching enabled webhooks, marking
 * the events dispatched, inside the caller's transaction. Owner-level webhooks get every owner event; a
 * bot account's webhooks get the events it caused plus the owner's events its scopes can read. Returns
 * the new rows ready to send (with URL and sealed secret), so the first attempt needs no re-read.
 */
export function dispatchRows(db: Db, nowMs: number, batch: number): Dispatched {
  // In rowid order (insertion order, like seq): the events_pending index yields it without a sort, so a
  // batch reads only its own rows however long the backlog is.
  const events = db.query<EventRow, [number]>(
    'SELECT rowid AS rid, id, seq, type, owner_id, bot_account_id, data, created_at FROM events WHERE dispatched_at IS NULL ORDER BY rowid LIMIT ?',
  ).all(batch)
  const created: DueDelivery[] = []
  if (!events.length) return { events: 0, created }
  const hooksOf = db.query<HookRow, [string]>(
    `SELECT w.id, w.bot_account_id, w.events, w.url, w.secret, b.scopes AS bot_scopes, b.is_active AS bot_active
     FROM webhooks w LEFT JOIN bot_accounts b ON b.id = w.bot_account_id WHERE w.owner_id = ? AND w.enabled = 1`,
  )
  const insert = db.query<unknown, [string, string, string, string, string, string, string, string]>(
    `INSERT OR IGNORE INTO webhook_deliveries (id, webhook_id, event_id, event_type, payload, status, next_attempt_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
  )
  const mark = db.query('UPDATE events SET dispatched_at = ? WHERE dispatched_at IS NULL AND rowid <= ?')
  const now = isoMs(nowMs)
  const cache = new Map<string, Array<HookRow & { list: string[]; scopes: string[] }>>()
  for (const e of events) {
    let hooks = cache.get(e.owner_id)
    if (!hooks) {
      hooks = hooksOf.all(e.owner_id)
        .filter((h) => h.bot_account_id === null || h.bot_active === 1) // an inactive account's webhooks are paused
        .map((h) => ({ ...h, list: JSON.parse(h.events) as string[], scopes: h.bot_scopes ? JSON.parse(h.bot_scopes) as string[] : [] }))
      cache.set(e.owner_id, hooks)
    }
    let payload: string | null = null
    for (const h of hooks) {
      if (!subscribes(h.list, e.type)) continue
      if (h.bot_account_id && !botAccountSees(e, h.bot_account_id, h.scopes)) continue
      payload ??= payloadOf(e.type, e.created_at, e.data)
      let id = eventDeliveryId(e.seq, e.id, h.id)
      let r = insert.run(id, h.id, e.id, e.type, payload, now, now, now)
      if (!r.changes) { id = deliveryId(nowMs); r = insert.run(id, h.id, e.id, e.type, payload, now, now, now) } // a 72-bit collision: a random id
      if (r.changes) created.push({ id, rowid: Number(r.lastInsertRowid), webhook_id: h.id, payload, attempts: 0, cycle_attempts: 0, url: h.url, secret: h.secret })
    }
  }
  // The batch is every undispatched event up to its last rowid, so one statement marks it.
  mark.run(now, events.at(-1)!.rid)
  return { events: events.length, created }
}

/** `dispatchRows` in its own (relaxed) transaction; returns the number of deliveries created. */
export function dispatchEvents(db: Db, nowMs: number, batch = 500): number {
  rememberSync(db)
  return relaxed(db, () => dispatchRows(db, nowMs, batch)).created.length
}

/** Pending deliveries due at `nowMs` whose webhook is enabled (and whose bot account, if any, is active), oldest first. */
export function dueDeliveries(db: Db, nowMs: number, limit: number): DueDelivery[] {
  return db.query<DueDelivery, [string, number]>(
    `SELECT d.id, d.rid AS rowid, d.webhook_id, d.payload, d.attempts, d.cycle_attempts, w.url, w.secret
     FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id LEFT JOIN bot_accounts b ON b.id = w.bot_account_id
     WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND w.enabled = 1 AND (w.bot_account_id IS NULL OR b.is_active = 1)
     ORDER BY d.next_attempt_at LIMIT ?`,
  ).all(isoMs(nowMs), limit)
}

/** When the next pending delivery of an enabled webhook is due (epoch ms), or null. */
export function nextDueAt(db: Db): number | null {
  const r = db.query<{ at: string | null }, []>(
    `SELECT min(d.next_attempt_at) AS at FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id LEFT JOIN bot_accounts b ON b.id = w.bot_account_id
     WHERE d.status = 'pending' AND w.enabled = 1 AND (w.bot_account_id IS NULL OR b.is_active = 1)`,
  ).get()
  return r?.at ? Date.parse(r.at) : null
}

export const pendingCount = (db: Db) =>
  db.query<{ n: number }, []>("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'").get()?.n ?? 0

/** Delay before the next attempt: the schedule plus up to 10% jitter, or the receiver's Retry-After if longer. */
export function retryDelay(cycleAttemptsDone: number, retryAfterMs: number | null, random = Math.random): number {
  const base = RETRY_SCHEDULE_MS[cycleAttemptsDone] ?? RETRY_SCHEDULE_MS.at(-1)!
  const jittered = withJitter(base, 0.1, random)
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS))
}

/**
 * Records a batch of attempt results inside the caller's transaction: the attempt log, the delivery's
 * state, and the webhook's health (failing_since, auto-disable on 410 or after `disableAfterDays` of
 * continuous failure). A result whose delivery was deleted or finalised meanwhile is dropped.
 */
export function recordRows(db: Db, results: AttemptResult[], disableAfterDays: number): Array<{ webhookId: string; reason: string }> {
  const disabled: Array<{ webhookId: string; reason: string }> = []
  const logAttempt = db.query(
    'INSERT INTO webhook_delivery_attempts (delivery, attempt, status, latency_ms, response_excerpt, error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  )
  const set = `UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, cycle_attempts = cycle_attempts + 1, next_attempt_at = ?,
       last_status = ?, last_latency_ms = ?, last_error = ?, delivered_at = coalesce(?, delivered_at), updated_at = ?`
  const updateByRowid = db.query(`${set} WHERE rid = ? AND id = ? AND status = 'pending'`)
  // Without a (matching) rowid: by id, and RETURNING says the row's key for the attempt log (the rare path).
  const updateById = db.query<{ rid: number }, Array<string | number | null>>(`${set} WHERE id = ? AND status = 'pending' RETURNING rid`)
  const healthy = db.query('UPDATE webhooks SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL')
  const failing = db.query<{ failing_since: string }, [string, string]>(
    'UPDATE webhooks SET failing_since = coalesce(failing_since, ?) WHERE id = ? RETURNING failing_since',
  )
  const disable = db.query('UPDATE webhooks SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ? AND enabled = 1')
  const cleared = new Set<string>()
  for (const r of results) {
    const d = r.delivery
    const now = isoMs(r.at)
    const ok = r.status !== null && r.status >= 200 && r.status < 300
    const gone = r.status === 410
    const cycle = d.cycle_attempts + 1
    const final = ok || gone || cycle >= MAX_ATTEMPTS
    const status = ok ? 'success' : final ? 'failed' : 'pending'
    const next = final ? null : isoMs(r.at + retryDelay(cycle, r.retryAfterMs))
    const error = r.error ?? (ok ? null : r.status !== null ? describeStatus(r.status) : 'No response')
    const delivered = ok ? now : null
    // By rowid when known (one b-tree search instead of two); by id when it is not, or no longer matches.
    let rid = d.rowid && updateByRowid.run(status, next, r.status, r.latencyMs, error, delivered, now, d.rowid, d.id).changes ? d.rowid : undefined
    rid ??= updateById.get(status, next, r.status, r.latencyMs, error, delivered, now, d.id)?.rid
    if (rid === undefined) continue // deleted (webhook removed) or finalised meanwhile
    logAttempt.run(rid, d.attempts + 1, r.status, r.latencyMs, r.excerpt, r.error ?? (ok ? null : error), now)
    if (ok) {
      if (!cleared.has(d.webhook_id)) { healthy.run(d.webhook_id); cleared.add(d.webhook_id) }
      continue
    }
    if (gone) {
      const reason = 'The endpoint answered 410 Gone, so deliveries were stopped; re-enable the webhook to resume'
      if (disable.run(reason, now, d.webhook_id).changes) disabled.push({ webhookId: d.webhook_id, reason })
      continue
    }
    const since = failing.get(now, d.webhook_id)?.failing_since
    if (since && disableAfterDays > 0 && r.at - Date.parse(since) >= disableAfterDays * 86400_000) {
      const reason = `Deliveries failed continuously since ${since.replace(/\.\d{3}Z$/, 'Z')} (${disableAfterDays} day${disableAfterDays === 1 ? '' : 's'} or more), so the webhook was disabled; fix the endpoint and re-enable it`
      if (disable.run(reason, now, d.webhook_id).changes) disabled.push({ webhookId: d.webhook_id, reason })
    }
  }
  return disabled
}

/** `recordRows` in its own (relaxed) transaction. */
export function recordAttempts(db: Db, results: AttemptResult[], disableAfterDays: number) {
  rememberSync(db)
  relaxed(db, () => recordRows(db, results, disableAfterDays))
}

function describeStatus(status: number): string {
  if (status >= 300 && status < 400) return `The endpoint answered ${status} (a redirect); redirects are not followed, so this counts as a failure`
  return `The endpoint answered ${status}`
}

/** Deletes dispatched events older than `keepMs` and final deliveries older than `keepDeliveriesMs`. */
export function prune(db: Db, nowMs: number, keepEventsMs = 7 * 86400_000, keepDeliveriesMs = 30 * 86400_000) {
  db.query('DELETE FROM events WHERE dispatched_at IS NOT NULL AND dispatched_at < ?').run(isoMs(nowMs - keepEventsMs))
  db.query("DELETE FROM webhook_deliveries WHERE status != 'pending' AND updated_at < ?").run(isoMs(nowMs - keepDeliveriesMs))
}
