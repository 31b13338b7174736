import { perKernel } from '../../src/kernel'

/**
 * One turn at a time per conversation (in this process; the run service's queue takes over across instances).
 * `acquire` queues behind the running turn; `busy` lets a caller refuse instead (409 + Retry-After).
 */
export class TurnLocks {
  private tails = new Map<string, Promise<void>>()
  private waiting = new Map<string, number>()

  busy(id: string) { return this.tails.has(id) }
  /** Turns waiting behind the running one. */
  queued(id: string) { return this.waiting.get(id) ?? 0 }

  async acquire(id: string): Promise<() => void> {
    const running = this.tails.get(id)
    const prev = running ?? Promise.resolve()
    let release!: () => void
    const mine = new Promise<void>((r) => { release = r })
    const tail = prev.then(() => mine)
    this.tails.set(id, tail)
    const waits = running !== undefined
    if (waits) this.waiting.set(id, this.queued(id) + 1)
    try { await prev } finally {
      if (waits) { const n = this.queued(id) - 1; if (n > 0) this.waiting.set(id, n); else this.waiting.delete(id) }
    }
    let done = false
    return () => {
      if (done) return
      done = true
      release()
      if (this.tails.get(id) === tail) this.tails.delete(id)
    }
  }
}

export const turnLocks = perKernel(() => new TurnLocks())
