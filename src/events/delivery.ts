import type { Kernel } from '../kernel'
import { SignedSender } from './send'
import {
  dispatchRows, dueDeliveries, nextDueAt, pendingCount, prune, recordRows, relaxed, rememberSync,
  type AttemptResult, type DueDelivery,
} from './delivery-store'

export { RETRY_SCHEDULE_MS, MAX_ATTEMPTS } from './delivery-store'
export { parseRetryAfter } from './send'

export interface DeliveryOptions {
  /** Per-attempt timeout (connect + response). */
  timeoutMs?: number
  /** Attempts in flight to one URL at a time. */
  perUrl?: number
  /** Attempts in flight overall. */
  maxInFlight?: number
  /** Attempts in flight for one owner (default AGENTBASE_OUTBOUND_PER_OWNER): one tenant's slow receivers cannot take every slot. */
  perOwner?: number
}

const PRUNE_EVERY_MS = 3600_000
/** Due deliveries read per query into the per-URL queues, and how often a busy worker re-reads them. */
const QUEUE_BATCH = 512
const QUEUE_TTL_MS = 1000
/** Outbox events turned into deliveries per transaction, when fewer than LOW_WATER deliveries wait in memory. */
const DISPATCH_BATCH = 256
const LOW_WATER = 256
/** Finished attempts are committed together: after this delay, or at once past this many (or when nothing else is in flight). */
const FLUSH_DELAY_MS = 10
const FLUSH_BATCH = 256

/** A FIFO with O(1) takes. */
class Fifo<T> {
  private items: T[] = []
  private head = 0
  get size() { return this.items.length - this.head }
  push(x: T) { this.items.push(x) }
  peek(): T { return this.items[this.head] }
  take(): T {
    const x = this.items[this.head++]
    if (this.head >= 1024 && this.head * 2 >= this.items.length) { this.items = this.items.slice(this.head); this.head = 0 }
    return x
  }
  *drain(): Generator<T> { while (this.size) yield this.take() }
}

/**
 * The outbound webhook worker (DESIGN §2): outbox events -> deliveries -> signed POSTs.
 *
 * One step is one transaction: it records the attempts finished since the last step (attempt log,
 * delivery state, webhook health) and, when the in-memory queues run low, turns the next outbox events
 * into delivery rows. Only after it commits are the new deliveries sent, straight from memory (no
 * re-read): a delivery row is committed before its first attempt, so a crash never loses a committed
 * event. At-least-once: a delivery stays `pending` until an attempt's result is committed, so a crash
 * mid-attempt means it is sent again after restart, with the same `webhook-id` (the delivery id).
 * Retries, test events and manual retries are read from SQLite (`refill`). All scheduling reads
 * `k.clock`; tests drive it with `runDue()` and a ManualClock instead of sleeping.
 */
export class DeliveryEngine {
  readonly timeoutMs: number
  readonly perUrl: number
  readonly maxInFlight: number
  readonly perOwner: number
  /** Per-URL queues of deliveries ready to send. */
  private queues = new Map<string, Fifo<DueDelivery>>()
  private queued = 0
  /** Ids queued, being sent, or sent and not yet recorded: a refill never queues them twice. */
  private known = new Set<string>()
  private sending = new Map<string, Promise<void>>()
  private perUrlCount = new Map<string, number>()
  private perOwnerCount = new Map<string, number>()
  private results: AttemptResult[] = []
  /** The queues must be re-read from SQLite (something changed, or retries may be due). */
  private stale = true
  private refilledAt = -Infinity
  /** The outbox may hold undispatched events. */
  private outboxMore = true
  private tickTimer: ReturnType<typeof setTimeout> | null = null
  private tickImmediate = false
  private idleWaiters: Array<() => void> = []
  private sender: SignedSender
  private running = false
  private halted = false
  private closed = false
  private woken = false
  private wakeSleep: (() => void) | null = null
  private lastPrune = 0
  private nextDue: number | null = null
  private listeners = new Set<(r: AttemptResult) => void>()

  constructor(private k: Kernel, opts: DeliveryOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 15_000
    this.perUrl = opts.perUrl ?? 8
    this.maxInFlight = opts.maxInFlight ?? 64
    this.perOwner = opts.perOwner ?? k.config.outboundLimits.perOwner
    this.sender = new SignedSender(k, this.timeoutMs)
    k.metrics.gauge('agentbase_webhook_deliveries_pending', () => (this.closed ? 0 : pendingCount(k.db)))
    k.metrics.gauge('agentbase_webhook_deliveries_in_flight', () => this.sending.size)
  }

  /** Moves outbox events into deliveries (one transaction) and starts their first attempts; returns how many were created. */
  dispatch(): number {
    this.outboxMore = true
    return this.step(true)
  }

  /** Dispatches and delivers everything due now, resolving when those attempts are recorded. */
  async runDue(): Promise<void> {
    this.stale = true
    this.outboxMore = true
    for (;;) {
      this.step()
      if (this.closed || this.halted) return
      if (this.sending.size === 0 && this.results.length === 0 && this.queued === 0 && !this.outboxMore) return
      if (this.sending.size === 0 && this.results.length === 0 && this.queued === 0 && this.k.db.inTransaction) return // cannot commit now
      await new Promise<void>((r) => this.idleWaiters.push(r))
    }
  }
  /** Alias of runDue, for tests that think in ticks. */
  tick() { return this.runDue() }

  /**
   * Something changed (a test event or manual retry was queued, a webhook or bot account was edited):
   * drop what waits in memory and re-read from SQLite, so disabled or deleted webhooks stop at once.
   */
  wake() {
    for (const q of this.queues.values()) for (const d of q.drain()) this.known.delete(d.id)
    this.queues.clear()
    this.queued = 0
    this.stale = true
    this.outboxMore = true
    this.rouse()
  }

  /** New outbox events (the bus): dispatch them soon, keep the queues. */
  nudge() {
    this.outboxMore = true
    this.rouse()
  }

  private rouse() {
    this.woken = true
    const w = this.wakeSleep
    this.wakeSleep = null
    w?.()
  }

  /** Observes every recorded attempt (metrics, benchmarks). */
  onAttempt(l: (r: AttemptResult) => void) { this.listeners.add(l); return () => this.listeners.delete(l) }

  /** The background loop; returns its stop function (waits for attempts in flight). */
  start(): () => Promise<void> {
    if (this.running) return async () => {}
    this.running = true
    this.halted = false
    this.stale = true
    const unsubscribe = this.k.events.subscribe(() => this.nudge())
    const loop = (async () => {
      while (this.running && !this.closed) {
        this.woken = false
        try {
          const now = this.k.clock.now()
          // Retries come due in SQLite: re-read now and then when busy, and as soon as one is due when idle.
          if (now - this.refilledAt >= QUEUE_TTL_MS) this.stale = true
          else if (this.nextDue !== null && this.nextDue <= now && this.sending.size === 0 && this.queued === 0) this.stale = true
          this.step()
          this.maybePrune()
        } catch (err) {
          this.k.log.error('webhook delivery loop failed', { error: (err as Error).message })
        }
        // A backlog in the outbox (events published while the worker was stopped) is worked through batch after
        // batch, yielding between them; waiting for the next wake-up per batch would hold new deliveries behind it.
        await this.sleep(this.backlogged() ? 0 : this.nextWaitMs())
      }
    })()
    return async () => {
      this.running = false
      this.halted = true // no new attempts; the ones in flight finish and are recorded
      unsubscribe()
      this.rouse()
      await loop
      await Promise.allSettled([...this.sending.values()])
      this.step()
      this.notifyIdle()
    }
  }

  close() { this.running = false; this.closed = true; this.rouse() }

  private backlogged() {
    return this.outboxMore && !this.halted && !this.closed && this.queued < LOW_WATER && !this.k.db.inTransaction
  }

  private nextWaitMs() {
    if (this.closed) return 1000
    this.nextDue = nextDueAt(this.k.db)
    if (this.nextDue === null) return 1000
    return Math.min(1000, Math.max(20, this.nextDue - this.k.clock.now()))
  }

  private sleep(ms: number) {
    if (this.woken) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => { this.wakeSleep = null; resolve() }, ms)
      this.wakeSleep = () => { clearTimeout(timer); resolve() }
    })
  }

  private maybePrune() {
    const now = this.k.clock.now()
    if (now - this.lastPrune < PRUNE_EVERY_MS) return
    this.lastPrune = now
    prune(this.k.db, now)
  }

  /**
   * One transaction: record finished attempts, and dispatch outbox events when the queues run low
   * (`force`: whatever the queues hold). After the commit, free the recorded ids, queue the new
   * deliveries and start attempts. Returns the number of deliveries dispatched.
   */
  private step(force = false): number {
    this.cancelTick()
    if (this.closed) { this.results = []; this.notifyIdle(); return 0 }
    // Never inside someone else's transaction: our rows must be committed before anything is sent.
    if (this.k.db.inTransaction) {
      // Try again in a moment, also for new outbox events: a group commit keeps its transaction open until the
      // end of the event-loop turn, so the bus's nudge can land inside it; sleeping until the idle wake-up
      // (up to a second) would delay those deliveries.
      if (this.results.length || this.sending.size || this.outboxMore) this.scheduleTick(FLUSH_DELAY_MS)
      return 0
    }
    const batch = this.results
    this.results = []
    const dispatching = !this.halted && this.outboxMore && (force || this.queued < LOW_WATER)
    let created: DueDelivery[] = []
    let disabled: Array<{ webhookId: string; reason: string }> = []
    if (batch.length || dispatching) {
      try {
        rememberSync(this.k.db)
        relaxed(this.k.db, () => {
          if (batch.length) disabled = recordRows(this.k.db, batch, this.k.config.webhookDisableAfterDays)
          if (dispatching) {
            const d = dispatchRows(this.k.db, this.k.clock.now(), DISPATCH_BATCH)
            created = d.created
            this.outboxMore = d.events === DISPATCH_BATCH
          }
        })
      } catch (err) {
        // Nothing was committed: the deliveries stay pending in SQLite (sent again after a re-read) and
        // the events undispatched (dispatched on the next publish or pass of the loop).
        this.k.log.error('webhook delivery bookkeeping failed', { error: (err as Error).message })
        created = []
        if (dispatching) this.outboxMore = false
        if (batch.length) this.stale = true
      }
    }
    for (const w of disabled) this.k.log.warn('webhook disabled', { webhook_id: w.webhookId, reason: w.reason })
    for (const r of batch) {
      const ok = r.status !== null && r.status >= 200 && r.status < 300
      if (!ok) {
        this.k.log.warn('webhook delivery failed', {
          delivery_id: r.delivery.id, webhook_id: r.delivery.webhook_id, attempt: r.delivery.attempts + 1, status: r.status, error: r.error,
        })
      }
      this.known.delete(r.delivery.id)
      for (const l of this.listeners) { try { l(r) } catch { /* observers never break delivery */ } }
    }
    for (const d of created) this.enqueue(d)
    this.pump()
    this.notifyIdle()
    return created.length
  }

  private enqueue(d: DueDelivery) {
    if (this.known.has(d.id)) return
    let q = this.queues.get(d.url)
    if (!q) this.queues.set(d.url, (q = new Fifo()))
    q.push(d)
    this.known.add(d.id)
    this.queued++
  }

  /** Adds due deliveries from SQLite that are not already queued, in flight or awaiting their record. */
  private refill() {
    this.stale = false
    this.refilledAt = this.k.clock.now()
    for (const d of dueDeliveries(this.k.db, this.k.clock.now(), this.known.size + QUEUE_BATCH)) this.enqueue(d)
  }

  /** Starts attempts for queued deliveries, within the global, per-URL and per-owner limits. */
  private pump() {
    if (this.closed || this.halted) return
    if (this.stale && !this.k.db.inTransaction) this.refill()
    for (const [url, q] of this.queues) {
      let n = this.perUrlCount.get(url) ?? 0
      while (q.size && n < this.perUrl && this.sending.size < this.maxInFlight && (this.perOwnerCount.get(q.peek().owner_id) ?? 0) < this.perOwner) {
        const d = q.take()
        this.queued--
        n++
        this.perUrlCount.set(url, n)
        this.perOwnerCount.set(d.owner_id, (this.perOwnerCount.get(d.owner_id) ?? 0) + 1)
        this.sending.set(d.id, this.sender.send(d).then((r) => this.finished(url, r)))
      }
      if (!q.size) this.queues.delete(url)
      if (this.sending.size >= this.maxInFlight) break
    }
  }

  /** An attempt ended: free its slot and start the next one now; record the result in the next step. */
  private finished(url: string, r: AttemptResult) {
    const left = (this.perUrlCount.get(url) ?? 1) - 1
    if (left > 0) this.perUrlCount.set(url, left)
    else this.perUrlCount.delete(url)
    const owner = r.delivery.owner_id
    const mine = (this.perOwnerCount.get(owner) ?? 1) - 1
    if (mine > 0) this.perOwnerCount.set(owner, mine)
    else this.perOwnerCount.delete(owner)
    this.sending.delete(r.delivery.id)
    this.results.push(r)
    // Group commit: wait a moment for company, unless the batch is full or nothing else is in flight.
    this.scheduleTick(this.results.length >= FLUSH_BATCH || this.sending.size === 0 ? 0 : FLUSH_DELAY_MS)
    this.pump()
  }

  private scheduleTick(delayMs: number) {
    if (delayMs === 0) {
      if (this.tickImmediate) return
      if (this.tickTimer) { clearTimeout(this.tickTimer); this.tickTimer = null }
      this.tickImmediate = true
      setImmediate(() => { if (this.tickImmediate) this.step() })
      return
    }
    if (this.tickTimer || this.tickImmediate) return
    this.tickTimer = setTimeout(() => { this.tickTimer = null; this.step() }, delayMs)
  }

  private cancelTick() {
    this.tickImmediate = false
    if (this.tickTimer) { clearTimeout(this.tickTimer); this.tickTimer = null }
  }

  private notifyIdle() {
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const w of waiters) w()
  }
}

/** The kernel's one delivery engine. */
export const deliveries = (k: Kernel) => k.deliveries
