import type { Db } from '../db/open'
import type { CatchupPolicy, FireKind, FireStatus, OverlapPolicy, ScheduleSpec } from './types'

/** Every SQL statement of the scheduler (DESIGN §11: one place to port to PostgreSQL). */

export interface ScheduleRow {
  id: string; name: string; handler: string; target_id: string | null; owner_id: string | null; system: number
  type: 'interval' | 'cron'; interval_ms: number | null; cron: string | null; timezone: string
  start_at: number | null; end_at: number | null; jitter_ms: number; overlap_policy: OverlapPolicy; catchup_policy: CatchupPolicy
  catchup_window_ms: number | null; pause_after_failures: number | null; anchor_ms: number
  status: 'active' | 'paused' | 'ended'; paused_reason: string | null; next_slot: number | null; next_run_at: number | null
  fire_count: number; missed_count: number; skipped_count: number; consecutive_failures: number
  last_slot: number | null; last_fire_at: number | null; last_finished_at: number | null; last_status: string | null; last_error: string | null
  last_skip_reason: string | null; last_skipped_at: number | null
  created_at: string; updated_at: string
}

export interface FireRow {
  schedule_id: string; slot: number; kind: FireKind; status: FireStatus; token: number | null; input: string | null
  queued_at: number; started_at: number | null; finished_at: number | null; error: string | null
}

/** What firing reads of a due schedule: half the columns (3,000+ rows a second become garbage after their fire). */
export type DueRow = Pick<ScheduleRow, 'id' | 'name' | 'handler' | 'target_id' | 'owner_id' | 'type' | 'interval_ms' | 'cron' | 'timezone'
  | 'start_at' | 'end_at' | 'jitter_ms' | 'overlap_policy' | 'catchup_policy' | 'catchup_window_ms' | 'pause_after_failures' | 'anchor_ms'
  | 'next_slot' | 'next_run_at'>
const DUE_COLS = `id, name, handler, target_id, owner_id, type, interval_ms, cron, timezone, start_at, end_at, jitter_ms, overlap_policy,
  catchup_policy, catchup_window_ms, pause_after_failures, anchor_ms, next_slot, next_run_at`

export const specOf = (r: DueRow): ScheduleSpec => ({
  type: r.type, intervalMs: r.interval_ms, cron: r.cron, timezone: r.timezone, startAt: r.start_at, endAt: r.end_at, jitterMs: r.jitter_ms,
  overlap: r.overlap_policy, catchup: r.catchup_policy, catchupWindowMs: r.catchup_window_ms, pauseAfterFailures: r.pause_after_failures,
})

export const get = (db: Db, id: string) => db.query<ScheduleRow, [string]>('SELECT * FROM schedules WHERE id = ?').get(id)
export const byName = (db: Db, name: string) => db.query<ScheduleRow, [string]>('SELECT * FROM schedules WHERE name = ?').get(name)
export const systemJobs = (db: Db) => db.query<ScheduleRow, []>('SELECT * FROM schedules WHERE system = 1 ORDER BY name').all()
/** Active schedules, one row at a time (start-up walks all of them: never 10,000 row objects alive at once). */
export const eachActive = (db: Db) => db.query<DueRow, []>(`SELECT ${DUE_COLS} FROM schedules WHERE status = 'active'`).iterate()

export function insert(db: Db, r: Omit<ScheduleRow, 'fire_count' | 'missed_count' | 'skipped_count' | 'consecutive_failures' | 'last_slot' | 'last_fire_at' | 'last_finished_at' | 'last_status' | 'last_error' | 'last_skip_reason' | 'last_skipped_at'>) {
  db.query(`INSERT INTO schedules (id, name, handler, target_id, owner_id, system, type, interval_ms, cron, timezone, start_at, end_at, jitter_ms,
              overlap_policy, catchup_policy, catchup_window_ms, pause_after_failures, anchor_ms, status, paused_reason, next_slot, next_run_at, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .run(r.id, r.name, r.handler, r.target_id, r.owner_id, r.system, r.type, r.interval_ms, r.cron, r.timezone, r.start_at, r.end_at, r.jitter_ms,
      r.overlap_policy, r.catchup_policy, r.catchup_window_ms, r.pause_after_failures, r.anchor_ms, r.status, r.paused_reason, r.next_slot, r.next_run_at, r.created_at, r.updated_at)
}

/** A new spec replaces the old one; counters and fire history stay. */
export function updateSpec(db: Db, r: ScheduleRow) {
  db.query(`UPDATE schedules SET type = ?, interval_ms = ?, cron = ?, timezone = ?, start_at = ?, end_at = ?, jitter_ms = ?, overlap_policy = ?, catchup_policy = ?,
              catchup_window_ms = ?, pause_after_failures = ?, anchor_ms = ?, status = ?, paused_reason = ?, next_slot = ?, next_run_at = ?, updated_at = ? WHERE id = ?`)
    .run(r.type, r.interval_ms, r.cron, r.timezone, r.start_at, r.end_at, r.jitter_ms, r.overlap_policy, r.catchup_policy, r.catchup_window_ms,
      r.pause_after_failures, r.anchor_ms, r.status, r.paused_reason, r.next_slot, r.next_run_at, r.updated_at, r.id)
}

export const remove = (db: Db, id: string) => db.query('DELETE FROM schedules WHERE id = ?').run(id)

/** Due active schedules, earliest first. */
export const due = (db: Db, now: number, limit: number) =>
  db.query<DueRow, [number, number]>(`SELECT ${DUE_COLS} FROM schedules WHERE status = 'active' AND next_run_at <= ? ORDER BY next_run_at LIMIT ?`).all(now, limit)

export const earliest = (db: Db) =>
  db.query<{ t: number | null }, []>("SELECT min(next_run_at) AS t FROM schedules WHERE status = 'active'").get()?.t ?? null

export const overdueCount = (db: Db, before: number) =>
  db.query<{ n: number }, [number]>("SELECT count(*) AS n FROM schedules WHERE status = 'active' AND next_run_at < ?").get(before)!.n

export const activeCount = (db: Db) =>
  db.query<{ n: number }, []>("SELECT count(*) AS n FROM schedules WHERE status = 'active'").get()!.n

/** Moves the schedule past the slots just handled and adds to its counters. */
export function advance(db: Db, id: string, v: { nextSlot: number | null; nextRunAt: number | null; ended: boolean; fired: number; missed: number; skipped: number; lastSlot: number | null; now: number; nowIso: string }) {
  db.query(`UPDATE schedules SET next_slot = ?, next_run_at = ?, status = CASE WHEN ? THEN 'ended' ELSE status END,
              fire_count = fire_count + ?, missed_count = missed_count + ?, skipped_count = skipped_count + ?,
              last_slot = coalesce(?, last_slot), last_fire_at = CASE WHEN ? > 0 THEN ? ELSE last_fire_at END, updated_at = ? WHERE id = ?`)
    .run(v.nextSlot, v.nextRunAt, v.ended ? 1 : 0, v.fired, v.missed, v.skipped, v.lastSlot, v.fired, v.now, v.nowIso, id)
}

/** `advance` for claimed fires of one slot that share their next slot (no jitter): one statement for the group. */
export const advanceFired = (db: Db, ids: string[], v: { nextSlot: number | null; lastSlot: number; now: number; nowIso: string }) =>
  db.query(`UPDATE schedules SET next_slot = ?1, next_run_at = ?1, status = CASE WHEN ?1 IS NULL THEN 'ended' ELSE status END,
              fire_count = fire_count + 1, last_slot = ?2, last_fire_at = ?3, updated_at = ?4 WHERE id IN (SELECT value FROM json_each(?5))`)
    .run(v.nextSlot, v.lastSlot, v.now, v.nowIso, JSON.stringify(ids))

export const addCounts = (db: Db, id: string, fired: number, skipped: number, now: number) =>
  db.query('UPDATE schedules SET fire_count = fire_count + ?, skipped_count = skipped_count + ?, last_fire_at = CASE WHEN ? > 0 THEN ? ELSE last_fire_at END WHERE id = ?')
    .run(fired, skipped, fired, now, id)

/** Why the last skipped fire was skipped (the overlap policy, a handler's refusal). */
export const noteSkip = (db: Db, id: string, reason: string, now: number) =>
  db.query('UPDATE schedules SET last_skip_reason = ?, last_skipped_at = ? WHERE id = ?').run(reason, now, id)

export const fireError = (db: Db, scheduleId: string, slot: number) =>
  db.query<{ error: string | null }, [string, number]>('SELECT error FROM schedule_fires WHERE schedule_id = ? AND slot = ?').get(scheduleId, slot)?.error ?? null

export function setStatus(db: Db, id: string, status: 'active' | 'paused', reason: string | null, nowIso: string) {
  db.query('UPDATE schedules SET status = ?, paused_reason = ?, updated_at = ? WHERE id = ?').run(status, reason, nowIso, id)
}

export function setNext(db: Db, id: string, nextSlot: number | null, nextRunAt: number | null, ended: boolean) {
  db.query("UPDATE schedules SET next_slot = ?, next_run_at = ?, status = CASE WHEN ? THEN 'ended' ELSE status END WHERE id = ?")
    .run(nextSlot, nextRunAt, ended ? 1 : 0, id)
}

export type OutcomeRow = Pick<ScheduleRow, 'id' | 'name' | 'handler' | 'target_id' | 'owner_id' | 'status' | 'consecutive_failures' | 'pause_after_failures'>

/**
 * A success: clears the failure streak. Written only when it changes something (or for system jobs, whose
 * last finish the admin view shows), so a schedule that keeps succeeding costs no row write here.
 */
export const recordSuccess = (db: Db, id: string, now: number) =>
  db.query(`UPDATE schedules SET consecutive_failures = 0, last_status = 'succeeded', last_finished_at = ?
            WHERE id = ? AND (consecutive_failures <> 0 OR last_status IS NOT 'succeeded' OR system = 1)`).run(now, id)

/** A failure: the streak grows; returns what the failing hook needs (null when the schedule was deleted). */
export const recordFailure = (db: Db, id: string, error: string, now: number) =>
  db.query<OutcomeRow, [string, number, string]>(`UPDATE schedules SET consecutive_failures = consecutive_failures + 1, last_status = 'failed', last_error = ?, last_finished_at = ?
            WHERE id = ? RETURNING id, name, handler, target_id, owner_id, status, consecutive_failures, pause_after_failures`).get(error, now, id) ?? null

// Fires

/** Inserts a fire unless its slot was handled already; false on a duplicate key. */
export function insertFire(db: Db, f: FireRow): boolean {
  const r = db.query(`INSERT INTO schedule_fires (schedule_id, slot, kind, status, token, input, queued_at, started_at, finished_at, error)
                      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (slot, schedule_id) DO NOTHING`)
    .run(f.schedule_id, f.slot, f.kind, f.status, f.token, f.input, f.queued_at, f.started_at, f.finished_at, f.error)
  return r.changes === 1
}

// Claims: fires recorded ahead of their slot (status running, not yet started: started_at NULL) so that at the slot
// one statement starts them all, touching no index. A fire that runs always has its started_at.

/** Active schedules due in (at, horizon], after `rid` among those due exactly at `at` (a keyset over the due index). */
export function dueSoon(db: Db, at: number, rid: number, horizon: number, limit: number) {
  const same = db.query<DueRow & { rid: number }, [number, number, number]>(
    `SELECT rowid AS rid, ${DUE_COLS} FROM schedules WHERE status = 'active' AND next_run_at = ? AND rowid > ? ORDER BY rowid LIMIT ?`).all(at, rid, limit)
  if (same.length >= limit) return same
  return same.concat(db.query<DueRow & { rid: number }, [number, number, number]>(
    `SELECT rowid AS rid, ${DUE_COLS} FROM schedules WHERE status = 'active' AND next_run_at > ? AND next_run_at <= ? ORDER BY next_run_at, rowid LIMIT ?`).all(at, horizon, limit - same.length))
}

/**
 * Starts a slot's claims (one statement): how many. A schedule paused, edited or deleted after its claim had
 * the claim dropped then (Scheduler.unclaim), so every claim left is one to start.
 */
export const startClaims = (db: Db, slot: number, token: number, now: number) =>
  db.query("UPDATE schedule_fires SET started_at = ? WHERE slot = ? AND status = 'running' AND started_at IS NULL AND token = ?").run(now, slot, token).changes

/** The schedules whose fire of a slot runs under a token (when a claim vanished and the count does not match). */
export const runningAt = (db: Db, slot: number, token: number) =>
  db.query<{ schedule_id: string }, [number, number]>("SELECT schedule_id FROM schedule_fires WHERE slot = ? AND status = 'running' AND token = ? AND started_at IS NOT NULL").all(slot, token).map((r) => r.schedule_id)

/** Drops a slot's claims that were not started (paused, changed or busy schedules go through the normal path). */
export const dropClaims = (db: Db, slot: number) =>
  db.query("DELETE FROM schedule_fires WHERE slot = ? AND status = 'running' AND started_at IS NULL").run(slot).changes

export const dropClaim = (db: Db, scheduleId: string, slot: number) =>
  db.query("DELETE FROM schedule_fires WHERE schedule_id = ? AND slot = ? AND status = 'running' AND started_at IS NULL").run(scheduleId, slot)

export const dropClaimsOf = (db: Db, scheduleId: string) =>
  db.query("DELETE FROM schedule_fires WHERE schedule_id = ? AND status = 'running' AND started_at IS NULL").run(scheduleId)

/** Every claim (start-up and shutdown: their slots are handled by the normal path, catch-up policy included). */
export const dropAllClaims = (db: Db) =>
  db.query("DELETE FROM schedule_fires WHERE status = 'running' AND started_at IS NULL").run().changes

export const fireExists = (db: Db, scheduleId: string, slot: number) =>
  !!db.query<{ x: number }, [string, number]>('SELECT 1 AS x FROM schedule_fires WHERE schedule_id = ? AND slot = ?').get(scheduleId, slot)

export const openFires = (db: Db, scheduleId: string) =>
  db.query<FireRow, [string]>("SELECT * FROM schedule_fires WHERE schedule_id = ? AND status IN ('buffered', 'running') ORDER BY slot").all(scheduleId)

export const allOpenFires = (db: Db) =>
  db.query<FireRow, []>("SELECT * FROM schedule_fires WHERE status IN ('buffered', 'running') ORDER BY schedule_id, slot").all()

export const startFire = (db: Db, scheduleId: string, slot: number, token: number, now: number) =>
  db.query("UPDATE schedule_fires SET status = 'running', token = ?, started_at = ? WHERE schedule_id = ? AND slot = ? AND status = 'buffered'")
    .run(token, now, scheduleId, slot).changes === 1

/** Ends a running fire; false when it had already ended (cancelled by cancel_other). */
export const finishFire = (db: Db, scheduleId: string, slot: number, status: FireStatus, error: string | null, now: number) =>
  db.query("UPDATE schedule_fires SET status = ?, error = ?, finished_at = ? WHERE schedule_id = ? AND slot = ? AND status IN ('running', 'buffered')")
    .run(status, error, now, scheduleId, slot).changes === 1

/** The last fires of a system job (their ids start with sjob_; the partial index covers only those). */
export const recentSystemFires = (db: Db, scheduleId: string, limit: number) =>
  db.query<FireRow, [string, number]>("SELECT * FROM schedule_fires WHERE schedule_id LIKE 'sjob%' AND schedule_id = ? ORDER BY slot DESC LIMIT ?").all(scheduleId, limit)

export const pruneFires = (db: Db, before: number) =>
  db.query("DELETE FROM schedule_fires WHERE finished_at < ? AND status NOT IN ('buffered', 'running')").run(before).changes

// Lease

export interface LeaseRow { holder: string; token: number; expires_at: number }
export const lease = (db: Db) => db.query<LeaseRow, []>('SELECT holder, token, expires_at FROM scheduler_lease WHERE id = 1').get()
export const takeLease = (db: Db, holder: string, expiresAt: number) =>
  db.query(`INSERT INTO scheduler_lease (id, holder, token, expires_at) VALUES (1, ?1, 1, ?2)
            ON CONFLICT (id) DO UPDATE SET holder = ?1, token = token + 1, expires_at = ?2`).run(holder, expiresAt)
export const renewLease = (db: Db, holder: string, token: number, expiresAt: number) =>
  db.query('UPDATE scheduler_lease SET expires_at = ? WHERE id = 1 AND holder = ? AND token = ?').run(expiresAt, holder, token).changes === 1
export const releaseLease = (db: Db, holder: string) =>
  db.query('UPDATE scheduler_lease SET expires_at = 0 WHERE id = 1 AND holder = ?').run(holder)
