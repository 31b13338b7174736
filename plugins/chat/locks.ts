import type { Kernel } from '../../src/kernel'

/**
 * One turn at a time per conversation (in this process; the run service's queue takes over across instances).
 * `acquire` queues behind the running turn; `busy` lets a caller refuse instead (409 + Retry-After).
 */
export class TurnLocks {
  private tails = new Map<string, Promise<void>>()

  busy(id: string) { return this.tails.has(id) }

  async acquire(id: string): Promise<() => void> {
    const prev = this.tails.get(id) ?? Promise.resolve()
    let release!: () => void
    const mine = new Promise<void>((r) => { release = r })
    const tail = prev.then(() => mine)
    this.tails.set(id, tail)
    await prev
    let done = false
    return () => {
      if (done) return
      done = true
      release()
      if (this.tails.get(id) === tail) this.tails.delete(id)
    }
  }
}

export const turnLocks = (k: Kernel) => k.singleton('chat.turn-locks', () => new TurnLocks())
