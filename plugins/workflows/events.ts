/**
 * Execution events (DESIGN §6): recorded in workflow_execution_events with an increasing seq (Last-Event-ID
 * resume reads the table, never memory alone) and told to live followers in this process.
 */
import { perKernel, type Kernel } from '../../src/kernel'
import { eventsStore } from './store'

export interface ExecEvent { type: string; execution_id: string; [k: string]: unknown }
export const TERMINAL = new Set(['run.completed', 'run.failed'])

class ExecutionEvents {
  private seqs = new Map<string, number>()
  private waiters = new Map<string, Set<() => void>>()
  constructor(private k: Kernel) {}

  /** A new execution has no events yet: its first one needs no lookup of the last seq. */
  fresh(execId: string) { this.seqs.set(execId, 0) }

  /** Records one event (call inside the transaction that makes it true, where there is one). */
  record(e: ExecEvent): number {
    let seq = this.seqs.get(e.execution_id)
    if (seq === undefined) seq = eventsStore(this.k.db).maxSeq(e.execution_id)
    seq++
    eventsStore(this.k.db).insert(e.execution_id, seq, e.type, JSON.stringify(e))
    if (TERMINAL.has(e.type)) this.seqs.delete(e.execution_id)
    else this.seqs.set(e.execution_id, seq)
    const w = this.waiters.get(e.execution_id)
    if (w) queueMicrotask(() => { for (const f of [...w]) f() })
    return seq
  }

  /** Resolves when a new event is recorded for the execution, the signal aborts, or after `ms`. */
  wait(execId: string, signal: AbortSignal, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(execId)
      if (!set) this.waiters.set(execId, (set = new Set()))
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        set!.delete(done)
        if (!set!.size) this.waiters.delete(execId)
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done, { once: true })
      set.add(done)
    })
  }
}

export const execEvents = perKernel((k) => new ExecutionEvents(k))

/** Replays recorded events after `after`, then follows live until the terminal event. */
export async function* follow(k: Kernel, execId: string, after: number, signal: AbortSignal, isUnfinished: () => boolean): AsyncGenerator<ExecEvent> {
  let last = after
  while (!signal.aborted) {
    const rows = eventsStore(k.db).after(execId, last)
    for (const r of rows) {
      last = r.seq
      yield JSON.parse(r.data) as ExecEvent
      if (TERMINAL.has(r.type)) return
    }
    if (!rows.length) {
      if (!isUnfinished()) return
      await execEvents(k).wait(execId, signal, 5000)
    }
  }
}
