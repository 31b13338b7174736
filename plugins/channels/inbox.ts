import type { Kernel } from '../../src/kernel'

/** How long concurrent writes are gathered before one transaction commits them all. */
export const GATHER_MS = 1
export const MAX_BATCH = 512

interface Waiting { fn: () => unknown; resolve: (v: any) => void; reject: (err: unknown) => void }

/**
 * Group commit: writes submitted within ~1 ms (or until MAX_BATCH) run in ONE transaction, so one fsync
 * (synchronous=FULL) covers them all. Each caller's promise resolves only after that transaction has
 * committed: the inbox acknowledges a delivery after this, never before. Batches commit in submission
 * order. A failing batch is retried one write per transaction, so one bad write fails only its caller.
 */
export class GroupCommitter {
  private waiting: Waiting[] = []
  private timer: ReturnType<typeof setTimeout> | null = null
  private closed = false
  /** Transactions committed and writes they carried (for the benchmark and metrics). */
  batches = 0
  writes = 0

  constructor(private k: Kernel, private gatherMs = GATHER_MS, private maxBatch = MAX_BATCH) {}

  /** Runs `fn` inside the next group transaction; resolves with its result once committed. */
  run<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the channels write queue is closed'))
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ fn, resolve, reject })
      if (this.waiting.length >= this.maxBatch) this.flush()
      else this.timer ??= setTimeout(() => this.flush(), this.gatherMs)
    })
  }

  flush() {
    if (this.timer) { clearTimeout(this.timer); this.timer = null }
    const batch = this.waiting
    this.waiting = []
    if (batch.length === 0) return
    let results: unknown[] | null
    try {
      results = this.k.db.transaction(() => batch.map((w) => w.fn()))()
    } catch {
      results = null
    }
    if (results) {
      this.batches++
      this.writes += batch.length
      batch.forEach((w, i) => w.resolve(results![i]))
      return
    }
    for (const w of batch) {
      try {
        const [r] = this.k.db.transaction(() => [w.fn()])()
        this.batches++
        this.writes++
        w.resolve(r)
      } catch (err) {
        this.k.log.error('channels write failed', { error: (err as Error).message })
        w.reject(err)
      }
    }
  }

  close() {
    this.flush()
    this.closed = true
  }
}
