/**
 * Group commit for the engine's records. Concurrent answers (different conversations) that finish in the
 * same turn of the event loop share ONE SQLite transaction, so one fsync (synchronous=FULL) covers them
 * all; each keeps its own savepoint, so one failing record rolls back alone. A caller's promise resolves
 * only after the commit that holds its writes: nothing is reported done before it is durable.
 */
import type { Kernel } from '../../src/kernel'

interface Pending { fn: () => unknown; resolve: (v: any) => void; reject: (e: unknown) => void }

export class GroupCommit {
  private pending: Pending[] = []
  private scheduled = false
  /** Transactions committed and records written, for the benchmark and metrics. */
  commits = 0
  records = 0
  constructor(private k: Kernel) {}

  /** Runs `fn` (synchronous writes) in the next group transaction; resolves with its result after the commit. */
  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  flush() {
    this.scheduled = false
    const batch = this.pending.splice(0)
    if (!batch.length) return
    const results: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = []
    try {
      this.k.db.transaction(() => {
        for (const item of batch) {
          // Nested transaction = SAVEPOINT: a throwing record rolls back its own writes only.
          try { results.push({ ok: true, value: this.k.db.transaction(item.fn)() }) } catch (error) { results.push({ ok: false, error }) }
        }
      })()
    } catch (error) {
      for (const item of batch) item.reject(error) // the commit itself failed: nothing of the batch was written
      return
    }
    this.commits++
    this.records += batch.length
    batch.forEach((item, i) => { const r = results[i]; if (r.ok) item.resolve(r.value); else item.reject(r.error) })
  }

  /** At kernel close: write what is waiting, so no answered message is lost. */
  close() { this.flush() }
}

export const groupCommit = (k: Kernel) => k.singleton('bots.group-commit', () => new GroupCommit(k))
