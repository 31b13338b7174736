/**
 * A run's live events for one consumer (start(), stream()): the run pushes, the consumer pulls. Events that
 * are already there resolve at once (the SSE writer then frames them in one write). When the consumer stops
 * early (`return()`: the client went away), `onClose` decides what happens to the run.
 */
export class Tap<E> implements AsyncIterable<E> {
  private queue: E[] = []
  private waiter: ((r: IteratorResult<E>) => void) | null = null
  private ended = false
  closed = false

  constructor(private onClose: () => void) {}

  push(e: E) {
    if (this.closed) return
    if (this.waiter) { const w = this.waiter; this.waiter = null; w({ value: e, done: false }) }
    else this.queue.push(e)
  }

  end() {
    this.ended = true
    if (this.waiter) { const w = this.waiter; this.waiter = null; w({ value: undefined, done: true }) }
  }

  [Symbol.asyncIterator](): AsyncIterator<E> {
    return {
      next: () => {
        if (this.queue.length) return Promise.resolve({ value: this.queue.shift()!, done: false })
        if (this.ended || this.closed) return Promise.resolve({ value: undefined, done: true })
        return new Promise((resolve) => { this.waiter = resolve })
      },
      return: async () => {
        if (!this.closed && !this.ended) {
          this.closed = true
          this.queue.length = 0
          this.onClose()
        }
        this.closed = true
        if (this.waiter) { const w = this.waiter; this.waiter = null; w({ value: undefined, done: true }) }
        return { value: undefined, done: true }
      },
    }
  }
}
