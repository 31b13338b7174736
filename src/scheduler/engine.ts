import { iso } from '../clock'
import { newId } from '../db/ids'
import { jitterFor, nextSlot } from './calendar'
import { CLAIM_LEAD_MS, FireEngine } from './fires'
import * as store from './store'
import type { ScheduleSpec } from './types'

export { DEFAULT_FAILING_AFTER, type ManualFire } from './fires'

const MAX_SLEEP_MS = 10_000

export interface NewSchedule { name: string; handler: string; targetId?: string | null; ownerId?: string | null; system?: boolean; spec: ScheduleSpec; paused?: boolean }

/**
 * The persisted scheduler (DESIGN §13). Schedules are rows with their next slot; one timer wakes for the
 * earliest (never a live cron object per schedule). Firing is FireEngine's (fires.ts); this adds the
 * schedules themselves and the timer. Handlers are registered by the domains that own them.
 */
export class Scheduler extends FireEngine {
  private timer: ReturnType<typeof setTimeout> | null = null
  private started = false

  // Schedules

  create(n: NewSchedule): store.ScheduleRow {
    const now = this.k.clock.now()
    const id = newId(n.system ? 'sjob' : 'sch')
    const next = nextSlot(n.spec, now, now)
    const row = {
      id, name: n.name, handler: n.handler, target_id: n.targetId ?? null, owner_id: n.ownerId ?? null, system: n.system ? 1 : 0,
      ...columns(n.spec), anchor_ms: now, status: next === null ? 'ended' as const : n.paused ? 'paused' as const : 'active' as const,
      paused_reason: n.paused ? 'user' : null, next_slot: next, next_run_at: next === null ? null : next + jitterFor(id, next, n.spec.jitterMs),
      created_at: iso(now), updated_at: iso(now),
    }
    store.insert(this.k.db, row)
    this.arm()
    return store.get(this.k.db, id)!
  }

  /** A new spec: slots are counted afresh from now; counters and history stay. */
  update(id: string, spec: ScheduleSpec): store.ScheduleRow {
    const now = this.k.clock.now()
    const r = store.get(this.k.db, id)!
    this.unclaim(id)
    const next = nextSlot(spec, now, now)
    const status = next === null ? 'ended' as const : r.status === 'ended' ? 'active' as const : r.status
    store.updateSpec(this.k.db, { ...r, ...columns(spec), anchor_ms: now, status, next_slot: next, next_run_at: next === null ? null : next + jitterFor(id, next, spec.jitterMs), updated_at: iso(now) })
    this.arm()
    return store.get(this.k.db, id)!
  }

  /** Creates or updates a system job so its spec matches the code (counters survive restarts). */
  ensure(n: NewSchedule): store.ScheduleRow {
    const r = store.byName(this.k.db, n.name)
    if (!r) return this.create(n)
    const same = JSON.stringify(columns(n.spec)) === JSON.stringify(columns(store.specOf(r)))
    return same ? r : this.update(r.id, n.spec)
  }

  get = (id: string) => store.get(this.k.db, id)

  pause(id: string, reason = 'user') {
    this.unclaim(id)
    store.setStatus(this.k.db, id, 'paused', reason, iso(this.k.clock.now()))
  }

  /** Active again; slots that passed while paused go through the catch-up policy once, on the next tick. */
  resume(id: string) {
    const now = this.k.clock.now()
    this.k.db.transaction(() => {
      const r = store.get(this.k.db, id)
      if (!r || r.status !== 'paused') return
      store.setStatus(this.k.db, id, 'active', null, iso(now))
      this.k.db.query('UPDATE schedules SET consecutive_failures = 0 WHERE id = ?').run(id)
      if (r.next_slot !== null && r.next_run_at !== null && r.next_run_at < now) store.setNext(this.k.db, id, r.next_slot, now, false)
    })()
    this.arm()
  }

  /** Deletes a schedule; its running fires are told to stop. */
  remove(id: string) {
    this.unclaim(id)
    for (const [key, f] of this.inflight) if (key.startsWith(id + ':')) f.ctrl.abort(new Error('the schedule was deleted'))
    store.remove(this.k.db, id)
  }

  isRunning = (id: string) => store.openFires(this.k.db, id).filter((f) => f.status === 'running' && f.started_at !== null).length


  // Timers (serve only)

  arm() {
    if (!this.started) return
    if (this.timer) clearTimeout(this.timer)
    const t = store.earliest(this.k.db)
    const now = this.k.clock.now()
    let delay = t === null ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, Math.max(0, t - now))
    // Back soon enough to claim the next fires ahead of their slot (at once while a claim scan has more).
    if (this.claimBacklog) delay = 0
    else if (t !== null) delay = Math.min(delay, CLAIM_LEAD_MS / 2)
    this.timer = setTimeout(() => this.loop(), delay)
  }

  private loop() {
    this.timer = null
    try { this.tick() } catch (err) { this.k.log.error('scheduler: tick failed', { error: (err as Error).message }) }
    this.arm()
  }

  startTimers() { this.started = true; this.arm() }

  async stop(graceMs: number) {
    this.started = false
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    try { this.forgetClaims() } catch (err) { this.k.log.warn('scheduler: dropping claims at shutdown failed (dropped at the next start)', { error: (err as Error).message }) }
    const within = (ms: number) => Promise.race([this.idle(), new Promise((r) => setTimeout(r, ms).unref?.())])
    await within(graceMs)
    // Still running after the grace: told to stop, and their ends recorded before the database closes
    // (whatever is left is closed as interrupted at the next start).
    for (const f of this.inflight.values()) f.ctrl.abort(new Error('the server is shutting down'))
    await within(1000)
    this.lease.release()
  }

  close() {
    this.started = false
    if (this.timer) clearTimeout(this.timer)
  }
}

const columns = (s: ScheduleSpec) => ({
  type: s.type, interval_ms: s.intervalMs, cron: s.cron, timezone: s.timezone, start_at: s.startAt, end_at: s.endAt, jitter_ms: s.jitterMs,
  overlap_policy: s.overlap, catchup_policy: s.catchup, catchup_window_ms: s.catchupWindowMs, pause_after_failures: s.pauseAfterFailures,
})
