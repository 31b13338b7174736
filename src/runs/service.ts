import type { Kernel } from '../kernel'
import { ApiError } from '../http/errors'
import { collect, preflight, run, type Collected } from '../agent/run'
import type { RunEvent, RunResult } from '../agent/types'
import { GroupCommit } from '../db/group-commit'
import { iso } from '../clock'
import { sseResponse } from '../http/sse'
import { Billing, type Reservation } from './billing'
import { RunEventLog } from './event-log'
import { runsStore, type RunListQuery } from './store'
import { RunPool } from './pool'
import { Tap } from './tap'
import { applyOutcome, failed, failure, newRow, outcomeOf, terminalFor, usageOf, withAbortReason, type TerminalEvent } from './record'
import {
  isFinished, isTerminalEvent, type RecordedEvent, type RunFailure, type RunOutcome, type RunRequest, type RunService, type RunSource,
  type RunSourceHandler, type RunView, type StartedRun, type FinishedListener,
} from './types'

/** The background worker that runs queued runs and recovers unfinished ones at start (started by `serve`). */
export const WORKER_NAME = 'runs'

export const CANCELLED: RunFailure = { message: 'The run was cancelled', code: 'cancelled', status: 499 }
const DISCONNECTED: RunFailure = { message: 'The client disconnected; the run was cancelled', code: 'cancelled', status: 499 }
const SHUTDOWN: RunFailure = { message: 'The server shut down while this run was in progress', code: 'interrupted', status: 503 }
const CRASHED = 'The server stopped while this run was in progress (crash or kill); it was not retried because its tools may already have acted'

type FinishedStatus = 'success' | 'error' | 'cancelled' | 'test'

const apiError = (f: RunFailure) => new ApiError(f.status, f.message, f.code)

interface Active { ac: AbortController; source: RunSource; sourceId: string | null; done: Promise<unknown> }

/** DESIGN §12: the one place that creates, executes, records, cancels, bills and recovers runs. */
export class Runs implements RunService {
  readonly log: RunEventLog
  readonly billing: Billing
  /** The hot path's writes (run rows, debits, events) share one transaction per event-loop turn. */
  readonly writer: GroupCommit
  readonly pool: RunPool
  private sources = new Map<RunSource, RunSourceHandler>()
  /** Every run executing in this process (sync, streamed, queued): for cancel and shutdown. */
  private active = new Map<string, Active>()
  private store
  /** GET /api/runs/live subscribers; empty on the hot path unless someone watches. */
  private watchers = new Set<(run: RunView) => void>()
  private finishedListeners = new Set<FinishedListener>()

  constructor(private k: Kernel) {
    this.log = new RunEventLog(k)
    this.billing = new Billing(k)
    this.writer = new GroupCommit(k.db)
    this.store = runsStore(k.db)
    this.pool = new RunPool(k, (id, kept) => this.runQueued(id, kept))
  }

  /** Plugins use the kernel as Elysia's `seed`, which Elysia JSON-stringifies: no cycle back to the kernel. */
  toJSON() { return { runs: this.stats() } }

  registerSource(source: RunSource, handler: RunSourceHandler) { this.sources.set(source, handler) }

  get(id: string) { return this.store.get(id) }
  list(source: RunSource, sourceId: string, limit: number) { return this.store.list(source, sourceId, limit) }
  page(q: RunListQuery) { return this.store.page(q) }
  onFinished(fn: FinishedListener) {
    this.finishedListeners.add(fn)
    return () => { this.finishedListeners.delete(fn) }
  }
  watch(fn: (run: RunView) => void) {
    this.watchers.add(fn)
    return () => { this.watchers.delete(fn) }
  }
  /** A run was created or changed status: tell the watchers (a snapshot, so later edits of the row are not seen). */
  private changed(row: RunView) {
    if (!this.watchers.size) return
    const snap = { ...row }
    for (const fn of this.watchers) {
      try { fn(snap) } catch (err) { this.k.log.warn('run watcher failed', { error: String(err) }) }
    }
  }
  pendingCallbacks() { return this.store.pendingCallbacks() }
  setCallback(id: string, status: 'pending' | 'delivered' | 'failed', attempts: number, lastStatus: number | null) {
    this.store.setCallback(id, status, attempts, lastStatus)
  }
  stats() { return { queued: this.pool.depth, running: this.active.size } }
  lastSeq(id: string) { return this.log.read(id, 0).at(-1)?.seq ?? 0 }
  eventsAfter(id: string, afterSeq: number): RecordedEvent[] {
    return this.log.read(id, afterSeq).map((r) => ({ seq: r.seq, type: r.type, data: JSON.parse(r.data) }))
  }

  private track(id: string, req: RunRequest, ac: AbortController, done: Promise<unknown>) {
    this.active.set(id, { ac, source: req.source, sourceId: req.sourceId, done })
    done.finally(() => this.active.delete(id)).catch(() => {})
  }

  /**
   * Writes a finished run in one transaction: the row (inserted or updated), the debit and the release of its
   * reservation, its remaining recorded events and terminal event, run.completed / run.failed, and the
   * surface's onFinish. False when the run was deleted meanwhile (its endpoint or bot was deleted).
   */
  private commit(row: RunView, req: RunRequest, res: Reservation | null, insert: boolean, result: RunResult, final: TerminalEvent | null): boolean {
    if (insert) this.store.insert(row)
    else if (!this.store.finish(row)) { if (res) this.billing.release(res); return false }
    this.billing.settle(res, row, req)
    this.changed(row)
    const base = {
      run_id: row.id, source: row.source, source_id: row.source_id, ...req.refs, status: row.status as FinishedStatus, usage: usageOf(row),
    }
    const who = { ownerId: row.owner_id }
    if (row.error !== null) this.k.events.publish('run.failed', { ...base, error: row.error, code: row.error_code ?? 'error' }, who)
    else this.k.events.publish('run.completed', base, who)
    if (final) this.log.flushRun(row.id, final)
    req.onFinish?.(row, result)
    if (this.finishedListeners.size) {
      const refs = req.refs ?? {}
      queueMicrotask(() => { for (const fn of this.finishedListeners) { try { fn(row, refs) } catch (err) { this.k.log.warn('run finished listener failed', { error: String(err) }) } } })
    }
    return true
  }

  /** A warn line for a run that did not succeed: its id, where it came from, and the safe message clients saw. */
  private logOutcome(row: RunView, req: RunRequest | null) {
    if (row.error === null) return
    const what = row.error_code === 'cancelled' ? 'run cancelled' : row.error_code === 'interrupted' ? 'run interrupted' : 'run failed'
    ;(req?.log ?? this.k.log).warn(what, { run_id: row.id, source: row.source, source_id: row.source_id, code: row.error_code, status: row.error_status, error: row.error })
  }

  async execute(req: RunRequest, opts: { signal?: AbortSignal } = {}): Promise<RunOutcome> {
    const row = newRow(this.k, req, req.mode ?? 'sync')
    const res = this.billing.reserve(req) // 402 before anything ran: not a run
    const ac = new AbortController()
    const onAbort = () => ac.abort(opts.signal?.reason instanceof ApiError ? opts.signal.reason : apiError({ ...CANCELLED, message: 'The run was cancelled by the caller' }))
    if (opts.signal?.aborted) onAbort()
    else opts.signal?.addEventListener('abort', onAbort, { once: true })
    const work = (async () => {
      try {
        const c = withAbortReason(await collect(run(this.k, req.spec, req.input, { signal: ac.signal, runId: row.id, started: req.refs, stream: false, log: req.log })), ac.signal)
        applyOutcome(this.k, row, req, c)
        await this.writer.run(() => this.commit(row, req, res, true, c.result, null))
        this.logOutcome(row, req)
        return c
      } finally {
        this.billing.release(res)
        opts.signal?.removeEventListener('abort', onAbort)
      }
    })()
    this.track(row.id, req, ac, work)
    const c = await work
    return { run: row, result: c.result, ok: c.ok, ...(c.ok ? {} : { error: { message: c.error, code: c.code, status: c.status } }) }
  }

  async start(req: RunRequest): Promise<StartedRun> {
    const row = newRow(this.k, req, req.mode ?? 'stream')
    const res = this.billing.reserve(req)
    try {
      await preflight(this.k, req.spec)
    } catch (err) {
      // A configuration error (missing key, refused base URL) is a failed run, answered before any stream starts.
      const c = failure(err, this.k, row.id)
      applyOutcome(this.k, row, req, c)
      try { await this.writer.run(() => this.commit(row, req, res, true, c.result, null)) } finally { this.billing.release(res) }
      this.logOutcome(row, req)
      throw new ApiError(c.status, c.error, c.code)
    }
    try {
      await this.writer.run(() => this.store.insert(row))
    } catch (err) {
      this.billing.release(res)
      throw err
    }
    this.changed(row)
    const ac = new AbortController()
    const tap = new Tap<RunEvent>(() => {
      if ((req.onDisconnect ?? 'cancel') === 'cancel') ac.abort(apiError(DISCONNECTED))
    })
    this.track(row.id, req, ac, this.drive(row, req, ac, res, tap))
    return { run: row, events: tap }
  }

  async stream(req: RunRequest, opts: { request: Request }): Promise<Response> {
    const { events } = await this.start({ ...req, mode: req.mode ?? 'stream' })
    return sseResponse(this.k, events, { signal: opts.request.signal })
  }

  async enqueue(req: RunRequest): Promise<RunView> {
    if (this.pool.depth >= this.k.config.runQueueMax) {
      throw new ApiError(429, `Rate limited: the run queue is full (${this.pool.depth} runs waiting); retry later`, 'queue_full', undefined, { 'Retry-After': '5' })
    }
    if (this.pool.depthOf(req.ownerId) >= this.pool.ownerQueueCap) {
      throw new ApiError(429, `Rate limited: your share of the run queue is full (${this.pool.depthOf(req.ownerId)} of your runs waiting); retry later`, 'queue_full', undefined, { 'Retry-After': '5' })
    }
    this.billing.check(req)
    const row = newRow(this.k, req, 'async')
    await this.writer.run(() => this.store.insert(row))
    this.changed(row)
    this.pool.push(row.id, req, req.ownerId)
    return row
  }

  /** The pool's worker body: a queued run (its request kept from enqueue, or rebuilt by its source after a restart). */
  private async runQueued(id: string, kept: RunRequest | null) {
    const row = this.store.get(id)
    if (!row || row.status !== 'queued') return
    const req = kept ?? this.sources.get(row.source)?.resume(row) ?? null
    if (!req) return this.interrupt(row, `The run could not be resumed: its ${row.source} is gone`)
    const now = iso(this.k.clock.now())
    if (!this.store.markRunning(id, now)) return
    row.status = 'running'
    row.started_at = now
    this.changed(row)
    const ac = new AbortController()
    let res: Reservation | null = null
    try {
      res = this.billing.reserve(req)
    } catch (err) {
      return this.finishEarly(row, req, failure(err, this.k, id))
    }
    const done = this.drive(row, req, ac, res, null)
    this.track(id, req, ac, done)
    await done
  }

  /**
   * Runs a recorded run: every event appended to its log (batched) and passed to the live consumer, the
   * outcome committed with its last events, then the terminal event sent (after the commit).
   */
  private async drive(row: RunView, req: RunRequest, ac: AbortController, res: Reservation | null, tap: Tap<RunEvent> | null): Promise<void> {
    let appended = 0
    let c: Collected | null = null
    let final: TerminalEvent | null = null
    try {
      for await (const e of run(this.k, req.spec, req.input, { signal: ac.signal, runId: row.id, started: req.refs, log: req.log })) {
        if (isTerminalEvent(e.type)) { final = e as TerminalEvent; c = outcomeOf(final); break }
        this.log.append(row.id, e)
        appended++
        tap?.push(e)
      }
    } catch (err) {
      c = failure(err, this.k, row.id)
    }
    c = withAbortReason(c ?? failure(new ApiError(500, 'The run ended without a result', 'internal_error')), ac.signal)
    if (!appended) {
      const started = { ...req.refs, type: 'run.started', run_id: row.id } as RunEvent
      this.log.append(row.id, started)
      tap?.push(started)
    }
    applyOutcome(this.k, row, req, c)
    const last = terminalFor(row, c, final)
    let committed = false
    try {
      committed = await this.writer.run(() => this.commit(row, req, res, false, c.result, last))
    } catch (err) {
      ;(req.log ?? this.k.log).error('recording a run failed', { run_id: row.id, error: (err as Error).message })
      // The surface's part refused (onFinish threw) or the write failed: record the run as failed without it,
      // so it does not stay `running` until the next restart.
      if (!(err instanceof ApiError && err.status === 404)) {
        const f = failed({ message: 'The run finished but its outcome could not be recorded', code: 'record_failed', status: 500 })
        applyOutcome(this.k, row, req, { ...f, result: c.result })
        const last2 = terminalFor(row, f, null)
        committed = await this.writer.run(() => this.commit(row, { ...req, onFinish: undefined }, res, false, c.result, last2)).catch(() => false)
        if (committed) { tap?.push(last2); tap?.end(); this.log.notify(row.id); this.logOutcome(row, req); return }
      }
    } finally {
      if (res) this.billing.release(res)
    }
    if (!committed) this.log.flushRun(row.id) // run deleted: drop its buffered events (their inserts are skipped)
    else this.logOutcome(row, req)
    this.log.notify(row.id)
    tap?.push(last)
    tap?.end()
  }

  /** Records a run that ends before it ran (refused by billing when its turn came, or cancelled while queued). */
  private async finishEarly(row: RunView, req: RunRequest | null, c: Collected) {
    const r = req ?? { source: row.source, sourceId: row.source_id, ownerId: row.owner_id, workspaceId: row.workspace_id } as RunRequest
    applyOutcome(this.k, row, { ...r, billing: { ...r.billing, chargeLlm: false } }, c)
    if (!this.log.read(row.id, 0).length) this.log.append(row.id, { ...r.refs, type: 'run.started', run_id: row.id } as { type: string })
    const last = terminalFor(row, c, null)
    await this.writer.run(() => this.commit(row, r, null, false, c.result, last))
    this.logOutcome(row, req)
    this.log.notify(row.id)
  }

  /** Marks a run the server lost track of (killed mid-run) as failed, with the reason, in one transaction. */
  private interrupt(row: RunView, reason: string) {
    return this.finishEarly(row, null, failed({ message: reason, code: 'interrupted', status: 503 }))
  }

  async cancel(id: string, reason: RunFailure = CANCELLED): Promise<RunView | null> {
    const a = this.active.get(id)
    if (a) {
      a.ac.abort(apiError(reason))
      await a.done.catch(() => {})
      return this.store.get(id)
    }
    const row = this.store.get(id)
    if (!row || isFinished(row.status)) return row
    // Queued (or left running by a process that is gone): it ends here.
    const kept = this.pool.drop(id)
    await this.finishEarly(row, kept, failed(reason))
    return this.store.get(id)
  }

  cancelSource(source: RunSource, sourceId: string, reason: RunFailure) {
    for (const [, a] of this.active) if (a.source === source && a.sourceId === sourceId) a.ac.abort(apiError(reason))
    for (const id of this.store.unfinishedOf(source, sourceId)) this.pool.drop(id)
  }

  /** Replays recorded events after `after`, then follows the run live until its terminal event. */
  async *events(id: string, after: number, signal?: AbortSignal): AsyncIterable<RecordedEvent> {
    let last = after
    while (!signal?.aborted) {
      const rows = this.log.read(id, last)
      for (const r of rows) {
        last = r.seq
        yield { seq: r.seq, type: r.type, data: JSON.parse(r.data) }
        if (isTerminalEvent(r.type)) return
      }
      const status = this.store.status(id)
      if (status === null) return // deleted with its endpoint
      if (isFinished(status) && !rows.length) return // finished and already sent
      if (!rows.length) await this.log.wait(id, signal, 5000)
    }
  }

  /** Resumes queued runs and fails those a crash left running, then starts the pool. */
  startWorker() {
    for (const row of this.store.unfinished()) {
      if (this.active.has(row.id)) continue
      if (row.status === 'queued') this.pool.push(row.id, null, row.owner_id)
      else this.interrupt(row, CRASHED).catch((err) => this.k.log.error('recording an interrupted run failed', { run_id: row.id, error: String(err) }))
    }
    this.pool.start()
  }

  /** Lets running runs finish for up to the shutdown grace, then stops them (recorded as failed, with the reason). */
  async stopWorker() {
    this.pool.stop()
    const all = () => Promise.all([...this.active.values()].map((a) => a.done.catch(() => {})))
    const grace = new Promise<void>((r) => setTimeout(r, this.k.config.shutdownGraceMs).unref?.())
    await Promise.race([all(), grace])
    for (const a of this.active.values()) a.ac.abort(apiError(SHUTDOWN))
    await all()
    this.log.flushAll()
  }

  close() {
    this.pool.stop()
    for (const a of this.active.values()) a.ac.abort(apiError(SHUTDOWN))
    this.log.flushAll()
    this.writer.close()
  }
}

export function createRuns(k: Kernel): Runs {
  const runs = new Runs(k)
  k.metrics.gauge('agentbase_run_queue_depth', () => runs.pool.depth)
  k.metrics.gauge('agentbase_runs_running', () => runs.stats().running)
  k.workers.register({
    name: WORKER_NAME,
    start() {
      runs.startWorker()
      return () => runs.stopWorker()
    },
  })
  return runs
}
