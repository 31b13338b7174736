import { perKernel } from '../kernel'
import { ApiError } from '../http/errors'

/**
 * Fair shares of outbound traffic (SECURITY.md promise 6). Every request made on a tenant's behalf (LLM turns,
 * HTTP and MCP tool calls, webhook deliveries) holds one slot of its owner and one of its destination host while
 * it runs. One tenant's slow upstream then occupies at most its own share, never the process-wide fetch pool
 * (Bun runs at most 256 requests at once and queues the rest, whoever they belong to). A tenant whose waiting
 * line is full gets a 429 instead of an ever longer queue.
 */

export interface OutboundLimitsConfig {
  /** Requests of one owner in flight at once. */
  perOwner: number
  /** Requests to one destination host in flight at once (user-chosen hosts; operator-configured ones are exempt). */
  perHost: number
  /** Requests of one owner waiting for a slot before further ones are refused with 429. */
  ownerQueue: number
}

interface Waiter { go: () => void }

/** A counting semaphore with a FIFO of waiters. */
class Gate {
  active = 0
  waiters: Waiter[] = []
  constructor(readonly max: number) {}
}

export interface SlotRequest {
  /** Whose behalf: null for the operator's own traffic (no owner share). */
  owner: string | null
  /** Destination host (lower-case, with port); null when exempt from the per-host bound. */
  host: string | null
  signal?: AbortSignal
}

const cancelled = (signal: AbortSignal) => (signal.reason instanceof Error ? signal.reason : new ApiError(499, 'The request was cancelled', 'cancelled'))

export class OutboundLimiter {
  private owners = new Map<string, Gate>()
  private hosts = new Map<string, Gate>()
  constructor(readonly cfg: OutboundLimitsConfig) {}

  /** Waits for an owner slot and a host slot (in that order, so waiting never deadlocks); returns the release. */
  async acquire(req: SlotRequest): Promise<() => void> {
    if (req.owner) {
      const g = this.owners.get(req.owner)
      if (g && g.active >= g.max && g.waiters.length >= this.cfg.ownerQueue) {
        throw new ApiError(429,
          `Too many outbound requests for this account: ${g.active} running and ${g.waiters.length} waiting (the per-account share of this server); retry shortly`,
          'outbound_busy', undefined, { 'retry-after': '1' })
      }
    }
    const releaseOwner = req.owner ? await this.take(this.owners, req.owner, this.cfg.perOwner, req.signal) : null
    let releaseHost: (() => void) | null = null
    try {
      if (req.host) releaseHost = await this.take(this.hosts, req.host, this.cfg.perHost, req.signal)
    } catch (err) {
      releaseOwner?.()
      throw err
    }
    let done = false
    return () => {
      if (done) return
      done = true
      releaseHost?.()
      releaseOwner?.()
    }
  }

  /** Runs `fn` holding the slots. */
  async run<T>(req: SlotRequest, fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire(req)
    try { return await fn() } finally { release() }
  }

  /** Slots in use and waiting, for one owner (tests, metrics). */
  ownerLoad(owner: string) {
    const g = this.owners.get(owner)
    return { active: g?.active ?? 0, waiting: g?.waiters.length ?? 0 }
  }

  private take(map: Map<string, Gate>, key: string, max: number, signal?: AbortSignal): Promise<() => void> {
    let g = map.get(key)
    if (!g) map.set(key, (g = new Gate(Math.max(1, max))))
    const gate = g
    const release = () => {
      gate.active--
      const next = gate.waiters.shift()
      if (next) next.go()
      else if (gate.active === 0) map.delete(key)
    }
    if (gate.active < gate.max && gate.waiters.length === 0) {
      gate.active++
      return Promise.resolve(release)
    }
    if (signal?.aborted) return Promise.reject(cancelled(signal))
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = gate.waiters.indexOf(w)
        if (i >= 0) gate.waiters.splice(i, 1)
        if (gate.active === 0 && gate.waiters.length === 0) map.delete(key)
        reject(cancelled(signal!))
      }
      const w: Waiter = { go: () => { signal?.removeEventListener('abort', onAbort); gate.active++; resolve(release) } }
      gate.waiters.push(w)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
}

/** The kernel's one limiter, sized from config (AGENTBASE_OUTBOUND_PER_OWNER, _PER_HOST, _QUEUE_PER_OWNER). */
export const outboundLimits = perKernel((k) => new OutboundLimiter(k.config.outboundLimits))

/** The per-host key of a URL: lower-case host with port. */
export function hostKey(url: string | URL): string {
  try { return (typeof url === 'string' ? new URL(url) : url).host.toLowerCase() } catch { return String(url) }
}
