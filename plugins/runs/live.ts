import type { Kernel } from '../../src/kernel'
import type { Principal } from '../../src/auth/principal'
import { sseResponse, type SseEvent } from '../../src/http/sse'
import type { RunView } from '../../src/runs/types'
import { inReach, itemOf, reachOf, type RunFilter } from './service'

/**
 * GET /api/runs/live: `run.updated` whenever one of the caller's runs is created or changes status. The stream
 * ends after LIVE_MAX_MS (an EventSource reconnects) or when the client falls MAX_BACKLOG events behind.
 */
export const LIVE_MAX_MS = 30 * 60_000
const MAX_BACKLOG = 1000

export function liveFeed(k: Kernel, p: Principal, f: RunFilter, request: Request): Response {
  const reach = reachOf(p, f)
  const queue: SseEvent[] = [{ type: 'ready' }]
  let wake: (() => void) | null = null
  let done = false
  const stop = () => { done = true; wake?.() }
  const unwatch = k.runs.watch((run: RunView) => {
    if (done || !inReach(reach, f, run)) return
    if (queue.length >= MAX_BACKLOG) return stop()
    queue.push({ type: 'run.updated', id: run.id, run: itemOf(run) })
    wake?.()
  })
  const timer = setTimeout(stop, LIVE_MAX_MS)
  const events = (async function* () {
    try {
      while (!done) {
        while (queue.length) yield queue.shift()!
        if (done) break
        await new Promise<void>((r) => { wake = r })
        wake = null
      }
    } finally {
      unwatch()
      clearTimeout(timer)
    }
  })()
  return sseResponse(k, events, { signal: request.signal, onClose: () => { stop(); unwatch(); clearTimeout(timer) } })
}
