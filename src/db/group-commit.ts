import type { Db } from './open'

export interface GroupCommitOptions {
  /** 0: gather until the next turn of the event loop; otherwise for this many milliseconds. */
  gatherMs?: number
  /** A batch this large commits at once. */
  maxBatch?: number
}

interface Job { fn: () => unknown; resolve: (v: any) => void; reject: (e: unknown) => void }

/**
 * Group commit: writes submitted together run in ONE transaction, so one fsync (synchronous=FULL)
 * covers them all, and each caller's promise settles only after that commit ("commit before
 * answering"). If one write throws, the batch is replayed with a savepoint per write, so the others
 * still commit and only the failing caller sees its error; jobs must therefore only write to the
 * database. Used by the hot paths that acknowledge or answer on commit (inbox, runs, bot answers).
 */
export class GroupCommit {
  private jobs: Job[] = []
  private timer: ReturnType<typeof setTimeout> | null = null
  private immediate = false
  private closed = false
  /** Transactions committed and writes they carried (benchmarks, tests). */
  batches = 0
  writes = 0

  constructor(private db: Db, private opts: GroupCommitOptions = {}) {}

  run<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the write queue is closed'))
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ fn, resolve, reject })
      if (this.jobs.length >= (this.opts.maxBatch ?? 512)) this.flush()
      else if (this.opts.gatherMs) this.timer ??= setTimeout(() => this.flush(), this.opts.gatherMs)
      else if (!this.immediate) {
        this.immediate = true
        setImmediate(() => this.flush())
      }
    })
  }

  /** Commits whatever is waiting now. */
  flush() {
    if (this.timer) { clearTimeout(this.timer); this.timer = null }
    this.immediate = false
    const jobs = this.jobs
    if (!jobs.length) return
    this.jobs = []
    let results: Array<{ ok: boolean; v: unknown }> = []
    try {
      this.db.transaction(() => { results = jobs.map((j) => ({ ok: true, v: j.fn() })) })()
    } catch {
      results = []
      try {
        this.db.transaction(() => {
          for (const j of jobs) {
            // A nested transaction is a SAVEPOINT: a throwing write rolls back its own changes only.
            try { results.push({ ok: true, v: this.db.transaction(j.fn)() }) } catch (e) { results.push({ ok: false, v: e }) }
          }
        })()
      } catch (e) {
        for (const j of jobs) j.reject(e) // the commit itself failed: nothing of the batch was written
        return
      }
    }
    this.batches++
    this.writes += jobs.length
    jobs.forEach((j, i) => (results[i].ok ? j.resolve(results[i].v) : j.reject(results[i].v)))
  }

  /** At kernel close: write what is waiting, then refuse new work. */
  close() {
    try { this.flush() } finally { this.closed = true }
  }
}
