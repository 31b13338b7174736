import type { Kernel } from '../kernel'
import type { RunRequest } from './types'

/**
 * The bounded pool of queued runs: AGENTBASE_RUN_CONCURRENCY at once; the queue holds at most
 * AGENTBASE_RUN_QUEUE_MAX waiting runs (the service answers 429 beyond). The queue's truth is the `queued`
 * rows in the database: after a restart they are pushed again (without a kept request: their source rebuilds it).
 *
 * Fair between owners (SECURITY.md promise 6): each owner has its own FIFO, owners take turns, and one owner runs
 * at most `ownerRunCap` at once (the pool minus a quarter kept for the others), so one tenant's slow runs
 * cannot hold every slot; likewise one owner may fill the queue only up to `ownerQueueCap` (a quarter stays free).
 */
export class RunPool {
  /** Waiting run ids per owner, and the owners with waiting runs in turn order. */
  private queues = new Map<string, string[]>()
  private turn: string[] = []
  private waiting = 0
  /** Requests of runs queued by this process (their spec holds live objects: tools, keys). */
  private kept = new Map<string, RunRequest | null>()
  private running = new Set<string>()
  private runningOf = new Map<string, number>()
  private started = false

  constructor(private k: Kernel, private work: (id: string, kept: RunRequest | null) => Promise<void>) {}

  get depth() { return this.waiting }
  depthOf(owner: string) { return this.queues.get(owner)?.length ?? 0 }

  /** Runs one owner may have running at once: the pool minus a reserve (a quarter, at least one) for the others. */
  get ownerRunCap() {
    const n = this.k.config.runConcurrency
    return n <= 1 ? 1 : n - Math.max(1, Math.floor(n / 4))
  }
  /** Runs one owner may have waiting: the queue minus a reserve (a quarter, at least one) for the others. */
  get ownerQueueCap() {
    const n = this.k.config.runQueueMax
    return n <= 1 ? 1 : n - Math.max(1, Math.floor(n / 4))
  }

  push(id: string, req: RunRequest | null, owner: string) {
    if (this.kept.has(id) || this.running.has(id)) return
    this.kept.set(id, req)
    let q = this.queues.get(owner)
    if (!q) { this.queues.set(owner, (q = [])); this.turn.push(owner) }
    q.push(id)
    this.waiting++
    this.pump()
  }

  /** Removes a waiting run; returns its kept request (null when unknown or already running). */
  drop(id: string): RunRequest | null {
    for (const [owner, q] of this.queues) {
      const i = q.indexOf(id)
      if (i < 0) continue
      q.splice(i, 1)
      this.waiting--
      if (!q.length) this.forgetOwner(owner)
      const req = this.kept.get(id) ?? null
      this.kept.delete(id)
      return req
    }
    return null
  }

  private forgetOwner(owner: string) {
    this.queues.delete(owner)
    const i = this.turn.indexOf(owner)
    if (i >= 0) this.turn.splice(i, 1)
  }

  /** Starts waiting runs while slots are free: owners in turn, skipping those at their cap. */
  private pump() {
    let skipped = 0
    while (this.started && this.running.size < this.k.config.runConcurrency && this.turn.length && skipped < this.turn.length) {
      const owner = this.turn.shift()!
      const q = this.queues.get(owner)!
      if ((this.runningOf.get(owner) ?? 0) >= this.ownerRunCap) { this.turn.push(owner); skipped++; continue }
      skipped = 0
      const id = q.shift()!
      this.waiting--
      if (q.length) this.turn.push(owner)
      else this.queues.delete(owner)
      const req = this.kept.get(id) ?? null
      this.kept.delete(id)
      this.running.add(id)
      this.runningOf.set(owner, (this.runningOf.get(owner) ?? 0) + 1)
      this.work(id, req)
        .catch((err) => this.k.log.error('queued run failed', { run_id: id, error: String((err as Error)?.stack ?? err) }))
        .finally(() => {
          this.running.delete(id)
          const left = (this.runningOf.get(owner) ?? 1) - 1
          if (left > 0) this.runningOf.set(owner, left)
          else this.runningOf.delete(owner)
          this.pump()
        })
    }
  }

  start() {
    this.started = true
    this.pump()
  }

  /** Stops taking work; waiting runs stay queued in the database for the next start. */
  stop() { this.started = false }
}
