import type { Kernel } from '../kernel'
import type { RunRequest } from './types'

/**
 * The bounded pool of queued runs: AGENTBASE_RUN_CONCURRENCY at once; the queue holds at most
 * AGENTBASE_RUN_QUEUE_MAX waiting runs (the service answers 429 beyond). The queue's truth is the `queued`
 * rows in the database: after a restart they are pushed again (without a kept request: their source rebuilds it).
 */
export class RunPool {
  private queue: string[] = []
  /** Requests of runs queued by this process (their spec holds live objects: tools, keys). */
  private kept = new Map<string, RunRequest | null>()
  private running = new Set<string>()
  private started = false

  constructor(private k: Kernel, private work: (id: string, kept: RunRequest | null) => Promise<void>) {}

  get depth() { return this.queue.length }

  push(id: string, req: RunRequest | null) {
    if (this.kept.has(id) || this.running.has(id)) return
    this.kept.set(id, req)
    this.queue.push(id)
    this.pump()
  }

  /** Removes a waiting run; returns its kept request (null when unknown or already running). */
  drop(id: string): RunRequest | null {
    const i = this.queue.indexOf(id)
    if (i < 0) return null
    this.queue.splice(i, 1)
    const req = this.kept.get(id) ?? null
    this.kept.delete(id)
    return req
  }

  private pump() {
    while (this.started && this.running.size < this.k.config.runConcurrency && this.queue.length) {
      const id = this.queue.shift()!
      const req = this.kept.get(id) ?? null
      this.kept.delete(id)
      this.running.add(id)
      this.work(id, req)
        .catch((err) => this.k.log.error('queued run failed', { run_id: id, error: String((err as Error)?.stack ?? err) }))
        .finally(() => { this.running.delete(id); this.pump() })
    }
  }

  start() {
    this.started = true
    this.pump()
  }

  /** Stops taking work; waiting runs stay queued in the database for the next start. */
  stop() { this.started = false }
}
