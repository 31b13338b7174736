import type { Kernel } from '../kernel'
import { iso } from '../clock'
import { newId } from '../db/ids'
import { jitterFor, nextSlot } from './calendar'
import { Lease } from './lease'
import { overlapAction, planSlots } from './plan'
import * as store from './store'
import type { FireKind, FireOutcome, Handler, ScheduleSpec } from './types'

const BATCH = 1000
const MAX_SLEEP_MS = 10_000
/** Failures in a row that raise the "failing" hook when a schedule has no pause_after_failures. */
export const DEFAULT_FAILING_AFTER = 3

export interface NewSchedule { name: string; handler: string; targetId?: string | null; ownerId?: string | null; system?: boolean; spec: ScheduleSpec; paused?: boolean }
export interface ManualFire { status: 'started' | 'buffered' | 'skipped'; slot: number; done: Promise<FireOutcome> | null }

interface Started { s: store.ScheduleRow; slot: number; kind: FireKind; input: unknown }
type Waiter = (o: FireOutcome) => void

/**
 * The persisted scheduler (DESIGN §13). Schedules are rows with their next slot; one timer wakes for the
 * earliest. Each slot is recorded under a unique (schedule, slot) key in the transaction that starts it,
 * so it fires at most once, across crashes too. Handlers are registered by the domains that own them.
 */
export class Scheduler {
  private handlers = new Map<string, Handler>()
  private inflight = new Map<string, { ctrl: AbortController; done: Promise<void> }>()
  private waiters = new Map<string, Waiter>()
  private timer: ReturnType<typeof setTimeout> | null = null
  private started = false
  readonly lease: Lease
  lastTickAt: number | null = null
  ticks = 0

  constructor(private k: Kernel) { this.lease = new Lease(k.db) }

  handle(name: string, h: Handler) { this.handlers.set(name, h) }

  // Schedules

  create(n: NewSchedule): store.ScheduleRow {
    const now = this.k.clock.now()
    const id = newId('sch')
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
    for (const [key, f] of this.inflight) if (key.startsWith(id + ':')) f.ctrl.abort(new Error('the schedule was deleted'))
    store.remove(this.k.db, id)
  }

  isRunning = (id: string) => store.openFires(this.k.db, id).filter((f) => f.status === 'running').length

  // The loop

  /** Start-up: fires that were running when the process stopped are marked interrupted (never re-run),
   *  every active schedule's next_run_at is recomputed, queued fires are resumed. No timers. */
  reconcile() {
    const now = this.k.clock.now()
    const db = this.k.db
    db.transaction(() => {
      for (const f of store.allOpenFires(db)) {
        if (f.status === 'running' && !this.inflight.has(`${f.schedule_id}:${f.slot}`)) store.finishFire(db, f.schedule_id, f.slot, 'interrupted', 'The process stopped while this fire was running', now)
      }
      for (const r of store.active(db)) {
        const spec = store.specOf(r)
        const slot = r.next_slot ?? nextSlot(spec, now, r.anchor_ms)
        store.setNext(db, r.id, slot, slot === null ? null : slot + jitterFor(r.id, slot, r.jitter_ms), slot === null)
      }
    })()
    if (!this.lease.ensure(now)) return
    const starts: Started[] = []
    db.transaction(() => {
      for (const id of new Set(store.allOpenFires(db).map((f) => f.schedule_id))) starts.push(...this.drain(id, now))
    })()
    for (const s of starts) this.launch(s)
  }

  /** Handles every due schedule once; returns how many fires started. Tests call it after moving the clock. */
  tick(): number {
    const now = this.k.clock.now()
    this.lastTickAt = now
    this.ticks++
    if (!this.lease.ensure(now)) return 0
    let startedCount = 0
    for (;;) {
      const due = store.due(this.k.db, now, BATCH)
      if (!due.length) break
      const starts: Started[] = []
      this.k.db.transaction(() => {
        if (!this.lease.current()) return
        for (const s of due) starts.push(...this.handleDue(s, now))
      })()
      for (const s of starts) this.launch(s)
      startedCount += starts.length
      if (due.length < BATCH || !this.lease.current()) break
    }
    return startedCount
  }

  private handleDue(s: store.ScheduleRow, now: number): Started[] {
    const spec = store.specOf(s)
    const plan = planSlots(spec, s.next_slot!, now, s.anchor_ms)
    const next = nextSlot(spec, Math.max(now, plan.lastSlot ?? now), s.anchor_ms)
    const batch = plan.fire.length > 1 && spec.overlap !== 'allow_all' // catch-up slots run one after another
    const starts: Started[] = []
    let fired = 0
    let skipped = 0
    for (const f of plan.fire) {
      const r = this.admit(s, f.slot, f.kind, null, now, batch)
      if (r === 'started') { fired++; starts.push({ s, slot: f.slot, kind: f.kind, input: null }) }
      else if (r === 'buffered') fired++
      else if (r === 'skipped') skipped++
    }
    store.advance(this.k.db, s.id, {
      nextSlot: next, nextRunAt: next === null ? null : next + jitterFor(s.id, next, s.jitter_ms), ended: next === null,
      fired, missed: plan.missed, skipped, lastSlot: plan.lastSlot, now, nowIso: iso(now),
    })
    if (plan.missed > 0) this.handlers.get(s.handler)?.missed?.(s, plan.missed, plan.lastSlot!)
    return starts
  }

  /** Records one fire under the overlap policy (inside a transaction). 'duplicate': the slot was handled already. */
  private admit(s: store.ScheduleRow, slot: number, kind: FireKind, input: unknown, now: number, queue: boolean): 'started' | 'buffered' | 'skipped' | 'duplicate' {
    const db = this.k.db
    const open = store.openFires(db, s.id)
    const running = open.filter((f) => f.status === 'running')
    let action = overlapAction(s.overlap_policy, running.length, open.length - running.length)
    if (queue && action !== 'start') action = 'buffer'
    const base = { schedule_id: s.id, slot, kind, input: input === null || input === undefined ? null : JSON.stringify(input), queued_at: now, error: null }
    if (action === 'skip') {
      if (!store.insertFire(db, { ...base, status: 'skipped', token: this.lease.token, started_at: null, finished_at: now, error: 'Skipped: the previous fire was still running (overlap policy)' })) return 'duplicate'
      this.handlers.get(s.handler)?.skipped?.(s, slot, 'overlap')
      return 'skipped'
    }
    if (action === 'buffer') {
      return store.insertFire(db, { ...base, status: 'buffered', token: null, started_at: null, finished_at: null }) ? 'buffered' : 'duplicate'
    }
    if (!store.insertFire(db, { ...base, status: 'running', token: this.lease.token, started_at: now, finished_at: null })) return 'duplicate'
    if (action === 'cancel_and_start') {
      for (const f of running) {
        store.finishFire(db, s.id, f.slot, 'cancelled', 'Cancelled by a newer fire (overlap policy cancel_other)', now)
        store.addCounts(db, s.id, 0, 1, now)
        this.handlers.get(s.handler)?.skipped?.(s, f.slot, 'cancelled')
        this.inflight.get(`${s.id}:${f.slot}`)?.ctrl.abort(new Error('cancelled by a newer fire'))
      }
    }
    return 'started'
  }

  /** The oldest queued fire starts when nothing of the schedule runs (all of them under allow_all). */
  private drain(id: string, now: number): Started[] {
    const s = store.get(this.k.db, id)
    if (!s) return []
    const open = store.openFires(this.k.db, id)
    let running = open.filter((f) => f.status === 'running').length
    const out: Started[] = []
    for (const f of open) {
      if (f.status !== 'buffered') continue
      if (running > 0 && s.overlap_policy !== 'allow_all') break
      if (store.startFire(this.k.db, id, f.slot, this.lease.token ?? 0, now)) {
        running++
        out.push({ s, slot: f.slot, kind: f.kind, input: f.input ? JSON.parse(f.input) : null })
      }
    }
    return out
  }

  /** A manual run under the schedule's overlap policy (marked manual; the slot is the time asked). */
  fireManual(id: string, input: unknown): ManualFire {
    const now = this.k.clock.now()
    this.lease.ensure(now)
    let result: ManualFire = { status: 'skipped', slot: now, done: null }
    let start: Started | null = null
    this.k.db.transaction(() => {
      const s = store.get(this.k.db, id)!
      let slot = now
      while (store.fireExists(this.k.db, id, slot)) slot++
      const r = this.admit(s, slot, 'manual', input, now, false)
      if (r === 'started') start = { s, slot, kind: 'manual', input }
      if (r === 'skipped') store.addCounts(this.k.db, id, 0, 1, now)
      else store.addCounts(this.k.db, id, 1, 0, now)
      result = { status: r === 'duplicate' ? 'skipped' : r, slot, done: null }
    })()
    if (result.status !== 'skipped') result.done = new Promise<FireOutcome>((res) => this.waiters.set(`${id}:${result.slot}`, res))
    if (start) this.launch(start)
    return result
  }

  private launch(st: Started) {
    const h = this.handlers.get(st.s.handler)
    const key = `${st.s.id}:${st.slot}`
    const ctrl = new AbortController()
    const run = async (): Promise<FireOutcome> => {
      if (!h) return { ok: false, error: `No handler "${st.s.handler}" is registered` }
      try {
        return await h.run({ scheduleId: st.s.id, name: st.s.name, targetId: st.s.target_id, ownerId: st.s.owner_id, slot: st.slot, kind: st.kind, input: st.input, token: this.lease.token ?? 0, signal: ctrl.signal })
      } catch (err) {
        return { ok: false, error: (err as Error).message }
      }
    }
    const done = run().then((o) => this.complete(st.s.id, st.slot, o)).catch((err) => this.k.log.error('scheduler: completing a fire failed', { schedule: st.s.name, error: (err as Error).message }))
    this.inflight.set(key, { ctrl, done })
  }

  private complete(id: string, slot: number, o: FireOutcome) {
    const key = `${id}:${slot}`
    this.inflight.delete(key)
    const now = this.k.clock.now()
    const db = this.k.db
    let starts: Started[] = []
    try {
      db.transaction(() => {
        if (!store.finishFire(db, id, slot, o.ok ? 'succeeded' : 'failed', o.ok ? null : (o.error ?? 'failed'), now)) { starts = this.drain(id, now); return }
        const s = store.get(db, id)
        if (!s) return
        const n = store.recordOutcome(db, id, o.ok, o.ok ? null : (o.error ?? 'failed'), now)
        const threshold = s.pause_after_failures ?? DEFAULT_FAILING_AFTER
        if (!o.ok && n === threshold) {
          const pause = s.pause_after_failures !== null && s.status === 'active'
          if (pause) store.setStatus(db, id, 'paused', 'failures', iso(now))
          this.handlers.get(s.handler)?.failing?.(s, n, pause, o.error ?? null)
        }
        starts = this.drain(id, now)
      })()
    } finally {
      this.waiters.get(key)?.(o)
      this.waiters.delete(key)
    }
    for (const s of starts) this.launch(s)
  }

  isIdle = () => this.inflight.size === 0

  /** Resolves when no fire is running in this process (tests, shutdown). */
  async idle() {
    while (this.inflight.size) await Promise.all([...this.inflight.values()].map((f) => f.done))
  }

  // Timers (serve only)

  arm() {
    if (!this.started) return
    if (this.timer) clearTimeout(this.timer)
    const t = store.earliest(this.k.db)
    const now = this.k.clock.now()
    const delay = t === null ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, Math.max(0, t - now))
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
    const wait = this.idle()
    await Promise.race([wait, new Promise((r) => setTimeout(r, graceMs).unref?.())])
    for (const f of this.inflight.values()) f.ctrl.abort(new Error('the server is shutting down'))
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
