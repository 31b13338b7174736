import type { Db } from '../../src/db/open'

interface Job { fn: () => unknown; resolve: (v: any) => void; reject: (e: unknown) => void }

/**
 * Group commit for the run hot path: writes queued during one turn of the event loop share ONE
 * transaction, and every caller's promise settles only after that transaction committed ("commit
 * before answering"). Under load, N concurrent runs cost one fsync instead of N. If one write throws,
 * the batch is rolled back and replayed with a savepoint per write, so the others still commit and
 * only the failing caller sees its error (jobs must therefore only write to the database).
 */
export class GroupCommit {
  private jobs: Job[] = []
  private scheduled = false
  batches = 0
  writes = 0

  constructor(private db: Db) {}

  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ fn, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  /** Runs every queued write now (also called at close so nothing queued is dropped). */
  flush() {
    this.scheduled = false
    const jobs = this.jobs
    if (!jobs.length) return
    this.jobs = []
    let results: Array<{ ok: boolean; v: unknown }> = []
    try {
      // Fast path: no savepoints.
      this.db.transaction(() => { results = jobs.map((j) => ({ ok: true, v: j.fn() })) })()
    } catch {
      results = []
      try {
        this.db.transaction(() => {
          for (const j of jobs) {
            try { results.push({ ok: true, v: this.db.transaction(j.fn)() }) } catch (e) { results.push({ ok: false, v: e }) }
          }
        })()
      } catch (e) {
        for (const j of jobs) j.reject(e)
        return
      }
    }
    this.batches++
    this.writes += jobs.length
    jobs.forEach((j, i) => (results[i].ok ? j.resolve(results[i].v) : j.reject(results[i].v)))
  }

  close() { try { this.flush() } catch { /* closing anyway */ } }
}
