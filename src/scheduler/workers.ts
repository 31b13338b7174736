import type { Logger } from '../log'

/**
 * Background work (queues, delivery workers, cron) registered by the domain that owns it and started
 * only by `serve` (or explicitly by a test), never inside createApp.
 */
export interface Worker {
  name: string
  /** Starts the loop; returns a function that stops it and resolves when in-flight work is done. */
  start(): () => Promise<void> | void
}

export class Workers {
  private registered = new Map<string, Worker>()
  private running = new Map<string, () => Promise<void> | void>()
  constructor(private log: Logger) {}

  register(w: Worker) { if (!this.registered.has(w.name)) this.registered.set(w.name, w) }
  names() { return [...this.registered.keys()] }

  start(name?: string) {
    for (const w of this.registered.values()) {
      if ((name && w.name !== name) || this.running.has(w.name)) continue
      this.running.set(w.name, w.start())
      this.log.debug('worker started', { worker: w.name })
    }
  }

  async stopAll() {
    const stops = [...this.running.entries()]
    this.running.clear()
    await Promise.all(stops.map(async ([name, stop]) => {
      try { await stop() } catch (err) { this.log.error('worker stop failed', { worker: name, error: (err as Error).message }) }
    }))
  }
}
