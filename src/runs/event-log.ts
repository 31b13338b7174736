import type { Kernel } from '../kernel'
import { iso } from '../clock'
import { runEventsStore, type RunEventRow } from './store'


/**
 * The recorded events of runs (async, streamed) (DESIGN §6, §11): each event gets the run's next `seq` (its SSE id).
 * Appends are buffered and written in batches (one transaction for all runs every FLUSH_MS), never one
 * write per token; a run's remaining events and its terminal event are written inside the transaction
 * that records the run's outcome (`flushRun`). Readers see the DB rows plus the not-yet-written tail, so
 * a live stream does not wait for a flush, and a resume after a restart reads only the recorded rows.
 */
export class RunEventLog {
  static FLUSH_MS = 50
  private pending = new Map<string, RunEventRow[]>()
  private seqs = new Map<string, number>()
  private waiters = new Map<string, Set<() => void>>()
  private timer: ReturnType<typeof setTimeout> | null = null
  private insert: ReturnType<typeof runEventsStore>['insert']

  constructor(private k: Kernel) {
    this.insert = runEventsStore(k.db).insert
  }

  private nextSeq(runId: string) {
    const n = (this.seqs.get(runId) ?? runEventsStore(this.k.db).last(runId)?.seq ?? 0) + 1
    this.seqs.set(runId, n)
    return n
  }

  /** Buffers one event; returns its seq. */
  append(runId: string, e: { type: string }): number {
    const row: RunEventRow = { run_id: runId, seq: this.nextSeq(runId), type: e.type, data: JSON.stringify(e), created_at: iso(this.k.clock.now()) }
    let list = this.pending.get(runId)
    if (!list) this.pending.set(runId, (list = []))
    list.push(row)
    if (!this.timer) {
      this.timer = setTimeout(() => this.flushAll(), RunEventLog.FLUSH_MS)
      ;(this.timer as { unref?: () => void }).unref?.()
    }
    this.notify(runId)
    return row.seq
  }

  /** Writes this run's buffered events and `final` (if given). Call inside the run's outcome transaction. */
  flushRun(runId: string, final?: { type: string }) {
    if (final) this.append(runId, final)
    for (const row of this.pending.get(runId) ?? []) this.insert(row)
    this.pending.delete(runId)
    if (final) this.seqs.delete(runId)
  }

  /** Writes every buffered event in one transaction. */
  flushAll() {
    if (this.timer) { clearTimeout(this.timer); this.timer = null }
    if (!this.pending.size) return
    const all = [...this.pending.values()].flat()
    this.pending.clear()
    try {
      this.k.db.transaction(() => { for (const row of all) this.insert(row) })()
    } catch (err) {
      this.k.log.error('run events flush failed', { error: (err as Error).message, events: all.length })
    }
  }

  /** Recorded events after `seq`, then the buffered tail (same tick: no gap, no duplicate). */
  read(runId: string, afterSeq: number): RunEventRow[] {
    const rows = runEventsStore(this.k.db).after(runId, afterSeq)
    const last = rows.length ? rows[rows.length - 1].seq : afterSeq
    for (const row of this.pending.get(runId) ?? []) if (row.seq > last) rows.push(row)
    return rows
  }

  /** Resolves on the run's next event (or outcome), on abort, or after `ms` (readers then re-check the DB). */
  wait(runId: string, signal: AbortSignal | undefined, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let set = this.waiters.get(runId)
      if (!set) this.waiters.set(runId, (set = new Set()))
      const done = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        const s = this.waiters.get(runId)
        s?.delete(done)
        if (s && !s.size) this.waiters.delete(runId)
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal?.addEventListener('abort', done, { once: true })
      set.add(done)
    })
  }

  notify(runId: string) {
    const set = this.waiters.get(runId)
    if (set) for (const w of [...set]) w()
  }

  close() { this.flushAll() }
}

