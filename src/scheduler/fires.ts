import type { Kernel } from '../kernel'
import { iso } from '../clock'
import { jitterFor, nextSlot } from './calendar'
import { Lease } from './lease'
import { ON_TIME_GRACE_MS, overlapAction, planSlots } from './plan'
import * as store from './store'
import type { FireContext, FireKind, FireOutcome, Handler } from './types'

const BATCH = 200
/**
 * Fires are claimed (recorded ahead as running, not yet started: see store.ts) this long before their slot,
 * so that a burst (every "*\/5" schedule at :05) starts with one statement at its slot instead of two row
 * writes per schedule.
 */
export const CLAIM_LEAD_MS = 500
const CLAIM_BATCH = 100
/** Only slots shared by at least this many schedules are claimed: a few fires start as fast by the normal path. */
const CLAIM_MIN_GROUP = 16
const NO_ROW = Number.MAX_SAFE_INTEGER
/** Finished fires recorded per transaction. */
const FINISH_CHUNK = 256
/** The shortest period a schedule can have (intervals and 6-field crons count whole seconds). */
const MIN_PERIOD_MS = 1000
/** Failures in a row that raise the "failing" hook when a schedule has no pause_after_failures. */
export const DEFAULT_FAILING_AFTER = 3

/** `refused`: the handler's refuse hook said why not (`reason`); recorded as a skipped fire. */
export interface ManualFire { status: 'started' | 'buffered' | 'skipped' | 'refused'; slot: number; done: Promise<FireOutcome> | null; reason?: string }

interface Started { s: store.DueRow; slot: number; kind: FireKind; input: unknown }
type Waiter = (o: FireOutcome) => void

/**
 * Firing (DESIGN §13): due schedules are handled in transactions that record each slot under the unique
 * (schedule, slot) key before its handler starts, so a slot fires at most once, across crashes too; the
 * overlap and catch-up policies decide what each slot becomes; finished fires are recorded in batches.
 */
export class FireEngine {
  protected handlers = new Map<string, Handler>()
  protected inflight = new Map<string, { ctrl: AbortController; done: Promise<void> }>()
  protected waiters = new Map<string, Waiter>()
  /** Fires of this process still running, per schedule (a hint: the table is checked when it is not 0). */
  protected runningBy = new Map<string, number>()
  /** Schedules that have queued fires (the table is checked for them only). */
  protected buffered = new Set<string>()
  /** Finished fires waiting to be recorded: one transaction per turn of the event loop. */
  protected finished: Array<{ id: string; slot: number; o: FireOutcome }> = []
  protected flushing: Promise<void> | null = null
  /** Claimed fires by slot: their rows are written; the slot's statement starts them. */
  protected claims = new Map<number, Map<string, store.DueRow>>()
  /** The claim scan's keyset: every schedule due up to (at, rowid) was looked at. */
  protected claimCursor = { at: 0, rid: NO_ROW }
  /** The last claim scan stopped at its batch size: the timer comes back at once for the rest. */
  claimBacklog = false
  readonly lease: Lease
  lastTickAt: number | null = null
  ticks = 0

  constructor(protected k: Kernel) { this.lease = new Lease(k.db) }

  handle(name: string, h: Handler) { this.handlers.set(name, h) }

  // The loop

  /** Start-up: fires that were running when the process stopped are followed when their handler's work goes
   *  on (resume hook), else marked interrupted (never re-run); every active schedule's next_run_at is
   *  recomputed, queued fires are resumed. No timers. */
  reconcile() {
    const now = this.k.clock.now()
    const db = this.k.db
    db.transaction(() => {
      this.forgetClaims() // a stopped process's claims: their slots go through the normal path (catch-up policy included)
      for (const f of store.allOpenFires(db)) {
        if (f.status !== 'running' || this.inflight.has(`${f.schedule_id}:${f.slot}`)) continue
        if (!this.adopt(f)) store.finishFire(db, f.schedule_id, f.slot, 'interrupted', 'The process stopped while this fire was running', now)
      }
      // Collected first, written after: the walk's cursor never sees its own updates. Most rows need no write.
      const changes: Array<[string, number | null]> = []
      for (const r of store.eachActive(db)) {
        const slot = r.next_slot ?? nextSlot(store.specOf(r), now, r.anchor_ms)
        if (slot === null || r.next_slot === null || r.next_run_at !== slot + jitterFor(r.id, slot, r.jitter_ms)) changes.push([r.id, slot])
      }
      for (const [id, slot] of changes) {
        const r = store.get(db, id)!
        store.setNext(db, id, slot, slot === null ? null : slot + jitterFor(id, slot, r.jitter_ms), slot === null)
      }
    })()
    if (!this.lease.ensure(now)) return
    const starts: Started[] = []
    db.transaction(() => {
      for (const id of new Set(store.allOpenFires(db).map((f) => f.schedule_id))) { this.buffered.add(id); starts.push(...this.drain(id, now)) }
    })()
    for (const s of starts) this.launch(s)
  }

  /** Handles every due schedule once; returns how many fires started. Tests call it after moving the clock. */
  tick(): number {
    const now = this.k.clock.now()
    this.lastTickAt = now
    this.ticks++
    if (!this.lease.ensure(now)) return 0
    let startedCount = this.startDueClaims(now)
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
    this.claimAhead(now)
    return startedCount
  }

  /** Drops every claim, in memory and in the table (start-up, shutdown). */
  protected forgetClaims() {
    store.dropAllClaims(this.k.db)
    this.claims.clear()
    this.claimCursor = { at: 0, rid: NO_ROW }
    this.claimBacklog = false
  }

  /** The schedule changed (paused, edited, deleted): its claims go; its next slot takes the normal path. */
  protected unclaim(id: string) {
    let had = false
    for (const group of this.claims.values()) had = group.delete(id) || had
    if (had) store.dropClaimsOf(this.k.db, id)
  }

  /** A schedule whose next fire can be claimed: on its exact slot (no jitter), idle, its handler willing. */
  protected claimable(r: store.DueRow): boolean {
    const h = this.handlers.get(r.handler)
    return !!h && r.jitter_ms === 0 && r.next_slot === r.next_run_at && (this.runningBy.get(r.id) ?? 0) === 0 && !this.buffered.has(r.id)
      && (h.refuse?.(r, 'scheduled') ?? null) === null
  }

  /** Claims the fires due within CLAIM_LEAD_MS, a batch per call (the tick's other work never waits long). */
  protected claimAhead(now: number) {
    this.claimBacklog = false
    const db = this.k.db
    const horizon = now + CLAIM_LEAD_MS
    if (this.claimCursor.at < now) this.claimCursor = { at: now, rid: NO_ROW } // what is due now is the normal path's
    if (this.claimCursor.at >= horizon) return
    const rows = store.dueSoon(db, this.claimCursor.at, this.claimCursor.rid, horizon, CLAIM_BATCH)
    const token = this.lease.token
    if (rows.length && token !== null) {
      db.transaction(() => {
        if (!this.lease.current()) return
        const sizes = new Map<number, number>()
        for (const r of rows) sizes.set(r.next_run_at!, (sizes.get(r.next_run_at!) ?? 0) + 1)
        for (const r of rows) {
          if ((sizes.get(r.next_run_at!) ?? 0) < CLAIM_MIN_GROUP && !this.claims.has(r.next_run_at!)) continue
          if (!this.claimable(r)) continue
          const slot = r.next_slot!
          if (!store.insertFire(db, { schedule_id: r.id, slot, kind: 'scheduled', status: 'running', token, input: null, queued_at: now, started_at: null, finished_at: null, error: null })) continue
          let group = this.claims.get(slot)
          if (!group) this.claims.set(slot, (group = new Map()))
          group.set(r.id, r)
        }
      })()
    }
    const last = rows.at(-1)
    this.claimBacklog = rows.length >= CLAIM_BATCH
    this.claimCursor = this.claimBacklog && last ? { at: last.next_run_at!, rid: last.rid } : { at: horizon, rid: NO_ROW }
  }

  /**
   * Starts the claimed fires whose slot has come: one statement per slot, then the handlers, then the
   * schedules move on (a crash in between leaves the slot's fire row, so the slot never runs twice). Claims
   * of schedules that became busy, paused or changed, or whose slot is no longer on time, are dropped: the
   * normal path handles those slots.
   */
  protected startDueClaims(now: number): number {
    if (!this.claims.size) return 0
    const db = this.k.db
    let started = 0
    for (const slot of [...this.claims.keys()].sort((a, b) => a - b)) {
      if (slot > now) break
      const group = this.claims.get(slot)!
      this.claims.delete(slot)
      let ids: string[] = []
      // Cron slots are at least a second apart: a claim started within a second of its slot cannot have let a later one pass.
      const lateBy = now - slot
      db.transaction(() => {
        if (lateBy <= ON_TIME_GRACE_MS && this.lease.current()) {
          for (const [id, s] of group) {
            const passed = lateBy >= (s.type === 'interval' ? Math.min(s.interval_ms!, MIN_PERIOD_MS) : MIN_PERIOD_MS) && (nextSlot(store.specOf(s), slot, s.anchor_ms) ?? Infinity) <= now
            if ((this.runningBy.get(id) ?? 0) > 0 || this.buffered.has(id) || passed) { store.dropClaim(db, id, slot); group.delete(id) }
          }
          const n = store.startClaims(db, slot, this.lease.token!, now)
          // A claim can vanish without an unclaim (its owner deleted: the cascade): then ask which ones started.
          ids = n === group.size ? [...group.keys()] : store.runningAt(db, slot, this.lease.token!).filter((id) => group.has(id))
        }
        store.dropClaims(db, slot)
      })()
      const starts: Started[] = []
      for (const id of ids) { const s = group.get(id); if (s) starts.push({ s, slot, kind: 'scheduled', input: null }) }
      for (const st of starts) this.launch(st)
      // Crons sharing pattern, zone and bounds share their next slot: one statement per such group (claims have no jitter).
      const groups = new Map<string, { next: number | null; ids: string[] }>()
      for (const { s } of starts) {
        const key = s.type === 'cron' ? `${s.cron}\u0000${s.timezone}\u0000${s.start_at}\u0000${s.end_at}` : s.id
        let g = groups.get(key)
        if (!g) groups.set(key, (g = { next: nextSlot(store.specOf(s), Math.max(now, slot), s.anchor_ms), ids: [] }))
        g.ids.push(s.id)
      }
      db.transaction(() => {
        for (const g of groups.values()) store.advanceFired(db, g.ids, { nextSlot: g.next, lastSlot: slot, now, nowIso: iso(now) })
      })()
      started += starts.length
    }
    return started
  }

  protected handleDue(s: store.DueRow, now: number): Started[] {
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
      else if (r === 'skipped' || r === 'refused') skipped++
    }
    store.advance(this.k.db, s.id, {
      nextSlot: next, nextRunAt: next === null ? null : next + jitterFor(s.id, next, s.jitter_ms), ended: next === null,
      fired, missed: plan.missed, skipped, lastSlot: plan.lastSlot, now, nowIso: iso(now),
    })
    if (plan.missed > 0) this.handlers.get(s.handler)?.missed?.(s, plan.missed, plan.lastSlot!)
    return starts
  }

  /** A fire of the stopped process whose work goes on (the handler's resume hook): followed as if it were ours. */
  protected adopt(f: store.FireRow): boolean {
    const s = store.get(this.k.db, f.schedule_id)
    const h = s ? this.handlers.get(s.handler) : undefined
    if (!s || !h?.resume) return false
    const ctrl = new AbortController()
    const input = f.input ? JSON.parse(f.input) : null
    const outcome = h.resume(this.context(s, f.slot, f.kind, input, f.token ?? 0, ctrl.signal))
    if (!outcome) return false
    this.track(s.id, f.slot, ctrl, () => outcome)
    return true
  }

  protected context(s: store.DueRow, slot: number, kind: FireKind, input: unknown, token: number, signal: AbortSignal): FireContext {
    return { scheduleId: s.id, name: s.name, targetId: s.target_id, ownerId: s.owner_id, slot, kind, input, token, signal }
  }

  /** Records a fire the handler refused (a spent budget) as skipped, with its reason. */
  protected refuse(s: store.DueRow, slot: number, reason: string) {
    store.noteSkip(this.k.db, s.id, reason, this.k.clock.now())
    this.handlers.get(s.handler)?.skipped?.(s, slot, 'refused')
  }

  /**
   * Records one fire under the handler's refuse hook and the overlap policy (inside a transaction).
   * 'duplicate': the slot was handled already; 'refused': recorded skipped with the handler's reason.
   */
  protected admit(s: store.DueRow, slot: number, kind: FireKind, input: unknown, now: number, queue: boolean): 'started' | 'buffered' | 'skipped' | 'refused' | 'duplicate' {
    const db = this.k.db
    const base0 = { schedule_id: s.id, slot, kind, input: input === null || input === undefined ? null : JSON.stringify(input), queued_at: now }
    const refused = this.handlers.get(s.handler)?.refuse?.(s, kind) ?? null
    if (refused !== null) {
      if (!store.insertFire(db, { ...base0, status: 'skipped', token: this.lease.token, started_at: null, finished_at: now, error: refused })) return 'duplicate'
      this.refuse(s, slot, refused)
      return 'refused'
    }
    const busy = (this.runningBy.get(s.id) ?? 0) > 0 || this.buffered.has(s.id)
    const open = busy ? store.openFires(db, s.id) : []
    const running = open.filter((f) => f.status === 'running')
    let action = overlapAction(s.overlap_policy, running.length, open.length - running.length)
    if (queue && action !== 'start') action = 'buffer'
    const base = { ...base0, error: null }
    if (action === 'skip') {
      const why = 'Skipped: the previous fire was still running (overlap policy)'
      if (!store.insertFire(db, { ...base, status: 'skipped', token: this.lease.token, started_at: null, finished_at: now, error: why })) return 'duplicate'
      store.noteSkip(db, s.id, why, now)
      this.handlers.get(s.handler)?.skipped?.(s, slot, 'overlap')
      return 'skipped'
    }
    if (action === 'buffer') {
      if (!store.insertFire(db, { ...base, status: 'buffered', token: null, started_at: null, finished_at: null })) return 'duplicate'
      this.buffered.add(s.id)
      return 'buffered'
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
  protected drain(id: string, now: number): Started[] {
    if (!this.buffered.has(id)) return []
    const s = store.get(this.k.db, id)
    if (!s) { this.buffered.delete(id); return [] }
    const open = store.openFires(this.k.db, id)
    if (!open.some((f) => f.status === 'buffered')) { this.buffered.delete(id); return [] }
    let running = open.filter((f) => f.status === 'running').length
    const out: Started[] = []
    const handled = new Set<number>()
    for (const f of open) {
      if (f.status !== 'buffered') continue
      if (running > 0 && s.overlap_policy !== 'allow_all') break
      // Queued before the handler's reason appeared (a budget spent by the fire it waited for): skipped now.
      const refused = this.handlers.get(s.handler)?.refuse?.(s, f.kind) ?? null
      if (refused !== null) {
        if (store.finishFire(this.k.db, id, f.slot, 'skipped', refused, now)) { store.addCounts(this.k.db, id, 0, 1, now); this.refuse(s, f.slot, refused) }
        handled.add(f.slot)
        continue
      }
      if (store.startFire(this.k.db, id, f.slot, this.lease.token ?? 0, now)) {
        running++
        out.push({ s, slot: f.slot, kind: f.kind, input: f.input ? JSON.parse(f.input) : null })
      }
    }
    if (!open.some((f) => f.status === 'buffered' && !handled.has(f.slot) && !out.some((o) => o.slot === f.slot))) this.buffered.delete(id)
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
      if (r === 'skipped' || r === 'refused') store.addCounts(this.k.db, id, 0, 1, now)
      else store.addCounts(this.k.db, id, 1, 0, now)
      result = { status: r === 'duplicate' ? 'skipped' : r, slot, done: null, ...(r === 'refused' ? { reason: store.fireError(this.k.db, id, slot) ?? 'refused' } : {}) }
    })()
    if (result.status === 'started' || result.status === 'buffered') result.done = new Promise<FireOutcome>((res) => this.waiters.set(`${id}:${result.slot}`, res))
    if (start) this.launch(start)
    return result
  }

  protected launch(st: Started) {
    const h = this.handlers.get(st.s.handler)
    const ctrl = new AbortController()
    this.track(st.s.id, st.slot, ctrl, () => h
      ? h.run(this.context(st.s, st.slot, st.kind, st.input, this.lease.token ?? 0, ctrl.signal))
      : Promise.resolve({ ok: false, error: `No handler "${st.s.handler}" is registered` }))
  }

  /** A running fire of this process: counted for the overlap policy, its outcome recorded when it ends. */
  protected track(id: string, slot: number, ctrl: AbortController, work: () => Promise<FireOutcome>) {
    const run = async (): Promise<FireOutcome> => {
      try { return await work() } catch (err) { return { ok: false, error: (err as Error).message } }
    }
    this.runningBy.set(id, (this.runningBy.get(id) ?? 0) + 1)
    const done = run().then((o) => this.complete(id, slot, o)).catch((err) => this.k.log.error('scheduler: completing a fire failed', { schedule: id, error: (err as Error).message }))
    this.inflight.set(`${id}:${slot}`, { ctrl, done })
  }

  protected complete(id: string, slot: number, o: FireOutcome) {
    this.inflight.delete(`${id}:${slot}`)
    const n = (this.runningBy.get(id) ?? 1) - 1
    if (n > 0) this.runningBy.set(id, n)
    else this.runningBy.delete(id)
    this.finished.push({ id, slot, o })
    // A chunk per turn of the event loop: a burst's thousands of ends never hold back the fires due meanwhile.
    this.flushing ??= new Promise<void>((resolve) => {
      const next = () => setImmediate(() => {
        try { this.recordFinished() } catch (err) {
          this.k.log.error('scheduler: recording finished fires failed (they are closed as interrupted at the next start)', { error: (err as Error).message })
        }
        if (this.finished.length) next()
        else { this.flushing = null; resolve() }
      })
      next()
    })
  }

  /** Records finished fires (up to FINISH_CHUNK) in one transaction, then starts what was queued behind them. */
  protected recordFinished() {
    const batch = this.finished.splice(0, FINISH_CHUNK)
    const now = this.k.clock.now()
    const db = this.k.db
    const starts: Started[] = []
    try {
      db.transaction(() => {
        for (const { id, slot, o } of batch) {
          const error = o.ok ? null : (o.error ?? 'failed')
          if (o.interrupted) store.finishFire(db, id, slot, 'interrupted', error, now)
          else if (store.finishFire(db, id, slot, o.ok ? 'succeeded' : 'failed', error, now)) {
            const s = error === null ? (store.recordSuccess(db, id, now), null) : store.recordFailure(db, id, error, now)
            if (s && s.consecutive_failures === (s.pause_after_failures ?? DEFAULT_FAILING_AFTER)) {
              const pause = s.pause_after_failures !== null && s.status === 'active'
              if (pause) { store.setStatus(db, id, 'paused', 'failures', iso(now)); this.unclaim(id) }
              this.handlers.get(s.handler)?.failing?.(s, s.consecutive_failures, pause, error)
            }
          }
          starts.push(...this.drain(id, now))
        }
      })()
    } finally {
      for (const { id, slot, o } of batch) {
        this.waiters.get(`${id}:${slot}`)?.(o)
        this.waiters.delete(`${id}:${slot}`)
      }
    }
    for (const s of starts) this.launch(s)
  }

  isIdle = () => this.inflight.size === 0 && !this.flushing

  /** Resolves when no fire is running in this process (tests, shutdown). */
  async idle() {
    while (this.inflight.size || this.flushing) {
      await Promise.all([...this.inflight.values()].map((f) => f.done))
      if (this.flushing) await this.flushing
    }
  }

}
