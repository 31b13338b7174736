import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { emptyResult, run, type Collected } from '../../src/agent/run'
import type { RunEvent } from '../../src/agent/types'
import { iso } from '../../src/clock'
import { toCents } from '../wallet/service'
import { endpointsStore, runsStore, type EndpointRow, type RunRow } from './store'
import { applyOutcome, assertBillable, commitOutcome, failure, newRunRow, outcomeOf, specFor, writer, type TerminalEvent } from './execute'
import { eventLog, isTerminal } from './event-log'
import { callbacks } from './callback'

/**
 * Async mode: a bounded pool of workers runs queued runs (AGENTBASE_RUN_CONCURRENCY at once); the queue
 * holds at most AGENTBASE_RUN_QUEUE_MAX waiting runs (429 beyond). The queue is the `queued` rows in the
 * database: at start-up they are resumed, and runs left `running` by a crash are marked failed with a reason.
 */
export const WORKER_NAME = 'agent-endpoints.runs'

interface Active { ac: AbortController; endpointId: string | null; done: Promise<void> }

export class RunPool {
  private queue: string[] = []
  private known = new Set<string>()
  private active = new Map<string, Active>()
  private started = false

  constructor(private k: Kernel) {}

  get depth() { return this.queue.length }
  get running() { return this.active.size }

  push(runId: string) {
    if (this.known.has(runId)) return
    this.known.add(runId)
    this.queue.push(runId)
    this.pump()
  }

  private pump() {
    while (this.started && this.active.size < this.k.config.runConcurrency && this.queue.length) {
      const id = this.queue.shift()!
      const entry: Active = { ac: new AbortController(), endpointId: null, done: Promise.resolve() }
      this.active.set(id, entry)
      entry.done = executeAsync(this.k, id, entry.ac.signal, (endpointId) => { entry.endpointId = endpointId })
        .catch((err) => this.k.log.error('async run failed', { run_id: id, error: String((err as Error)?.stack ?? err) }))
        .finally(() => { this.active.delete(id); this.known.delete(id); this.pump() })
    }
  }

  /** Stops the runs of a deleted endpoint. */
  cancelEndpoint(endpointId: string) {
    for (const a of this.active.values()) if (a.endpointId === endpointId) a.ac.abort(new ApiError(410, 'The endpoint was deleted', 'endpoint_deleted'))
  }

  /** Resumes queued runs and fails those a crash left running, then starts working. */
  start() {
    this.started = true
    const store = runsStore(this.k.db)
    for (const row of store.unfinished()) {
      if (row.status === 'queued') this.push(row.id)
      else if (!this.active.has(row.id)) interrupt(this.k, row, 'The server stopped while this run was in progress (crash or kill); it was not retried because its tools may already have acted')
    }
    this.pump()
  }

  /** Lets running runs finish for up to the shutdown grace, then stops them (recorded as failed, with the reason). */
  async stop() {
    this.started = false
    const all = () => Promise.all([...this.active.values()].map((a) => a.done))
    const grace = new Promise<void>((r) => setTimeout(r, this.k.config.shutdownGraceMs).unref?.())
    await Promise.race([all(), grace])
    for (const a of this.active.values()) a.ac.abort(new ApiError(503, 'The server shut down while this run was in progress', 'interrupted'))
    await all()
  }

  close() {
    this.started = false
    for (const a of this.active.values()) a.ac.abort(new ApiError(503, 'The server shut down while this run was in progress', 'interrupted'))
  }
}

export const runPool = (k: Kernel) => k.singleton('agent-endpoints.pool', () => new RunPool(k))

/** Queues an async run (one batched insert), or 429 when the queue is full. */
export async function enqueue(k: Kernel, ep: EndpointRow, input: string, callerIp: string | null, callbackUrl: string | null): Promise<RunRow> {
  const pool = runPool(k)
  if (pool.depth >= k.config.runQueueMax) {
    throw new ApiError(429, `Rate limited: the run queue is full (${pool.depth} runs waiting); retry later`, 'queue_full', undefined, { 'Retry-After': '5' })
  }
  const row = newRunRow(k, ep, 'async', input, callerIp, callbackUrl)
  await writer(k).run(() => runsStore(k.db).insert(row))
  pool.push(row.id)
  return row
}

/** Runs one queued run: events recorded (batched) as they come, the outcome committed with its last events. */
export async function executeAsync(k: Kernel, runId: string, signal: AbortSignal, bind: (endpointId: string) => void = () => {}) {
  const store = runsStore(k.db)
  const row = store.get(runId)
  if (!row || row.status !== 'queued') return
  const ep = endpointsStore(k.db).get(row.endpoint_id)
  if (!ep) return
  bind(ep.id)
  const now = iso(k.clock.now())
  if (!store.markRunning(runId, now)) return
  row.status = 'running'
  row.started_at = now
  const log = eventLog(k)
  let appended = 0
  let c: Collected | null = null
  let final: TerminalEvent | null = null
  try {
    assertBillable(k, ep)
    const events = run(k, specFor(k, ep), { message: row.input }, { signal, runId, started: { endpoint_id: ep.id } })
    for await (const e of events) {
      if (isTerminal(e.type)) {
        final = e as TerminalEvent
        c = outcomeOf(final)
        break
      }
      log.append(runId, e)
      appended++
    }
  } catch (err) {
    c = failure(err)
  }
  c ??= failure(new ApiError(500, 'The run ended without a result', 'internal_error'))
  // Our own stop reasons (shutdown, endpoint deleted) say more than the runtime's "cancelled by the caller".
  if (!c.ok && signal.aborted && signal.reason instanceof ApiError) c = { ...c, error: signal.reason.message, code: signal.reason.code, status: signal.reason.status }
  if (!appended) log.append(runId, { type: 'run.started', run_id: runId, endpoint_id: ep.id } as RunEvent)
  applyOutcome(k, row, ep, c)
  let last: TerminalEvent
  if (c.ok && final?.type === 'run.completed') {
    final.result.usage.cost_cents = toCents(row.cost_micro)
    last = final
  } else {
    const f = c.ok ? failure(new ApiError(500, 'The run ended without a result', 'internal_error')) : c
    last = { type: 'run.failed', run_id: runId, error: f.error, code: f.code, status: f.status, result: c.result }
  }
  const committed = await writer(k).run(() => {
    const ok = commitOutcome(k, ep, row, false)
    if (ok) log.flushRun(runId, last)
    return ok
  })
  if (!committed) log.flushRun(runId) // run deleted: drop its buffered events (their inserts are skipped)
  log.notify(runId)
  if (committed && row.callback_url) callbacks(k).schedule(runId)
}

/** Marks a run the server lost track of (killed mid-run) as failed, with the reason, in one transaction. */
export function interrupt(k: Kernel, row: RunRow, reason: string) {
  const ep = endpointsStore(k.db).get(row.endpoint_id)
  if (!ep) return
  const c: Collected = { ok: false, result: emptyResult(), error: reason, code: 'interrupted', status: 503 }
  applyOutcome(k, row, ep, c)
  const log = eventLog(k)
  k.db.transaction(() => {
    if (commitOutcome(k, ep, row, false)) log.flushRun(row.id, { type: 'run.failed', run_id: row.id, error: reason, code: 'interrupted', status: 503, result: c.result } as RunEvent)
  })()
  if (row.callback_url) callbacks(k).schedule(row.id)
}

export function registerRunWorker(k: Kernel) {
  k.metrics.gauge('agentbase_endpoint_run_queue_depth', () => runPool(k).depth)
  k.metrics.gauge('agentbase_endpoint_runs_running', () => runPool(k).running)
  k.workers.register({
    name: WORKER_NAME,
    start() {
      const pool = runPool(k)
      const cb = callbacks(k)
      cb.start()
      pool.start()
      cb.resume()
      return async () => {
        await pool.stop()
        await cb.stop()
        eventLog(k).flushAll()
      }
    },
  })
}
