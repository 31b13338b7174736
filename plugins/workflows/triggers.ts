/**
 * Triggers other than manual: a webhook per workflow (its own secret in X-Workflow-Secret, compared in constant
 * time; the execution row is written before the 202, so an acknowledged call is never lost) and event
 * triggers (an active workflow whose trigger_config.event names a catalog event runs for each such event of
 * its owner, optionally filtered by a condition over `trigger`).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { evaluateCondition } from '../../src/expr/index'
import type { DomainEvent } from '../../src/events/bus'
import { workflowsStore } from './store'
import { engine } from './engine'
import { createExecution } from './service'

const digest = (s: string) => createHash('sha256').update(s).digest()
const notFoundHook = () => new ApiError(404, 'Workflow webhook not found', 'not_found')

export function secretMatches(k: Kernel, sealed: string | null, given: string | null): boolean {
  if (!sealed || !given) return false
  let secret: string
  try { secret = k.secrets.open(sealed) } catch { return false }
  return timingSafeEqual(digest(secret), digest(given)) // equal-length digests: constant time whatever was sent
}

/** `body` is what the HTTP layer parsed (JSON when the content type says so, else text). */
export function receiveHook(k: Kernel, id: string, request: Request, body: unknown) {
  const wf = workflowsStore(k.db).get(id)
  const given = request.headers.get('x-workflow-secret')
  // The same 404 for a missing workflow, another trigger and a wrong secret: the URL reveals nothing.
  if (!wf || wf.trigger_type !== 'webhook' || !secretMatches(k, wf.hook_secret, given)) throw notFoundHook()
  if (wf.status !== 'active') throw new ApiError(409, `The workflow is ${wf.status}; activate it to accept webhook calls`, 'workflow_not_active')
  if (body === undefined) body = null
  const headers: Record<string, string> = {}
  for (const [name, value] of request.headers) if (!['x-workflow-secret', 'authorization', 'cookie'].includes(name)) headers[name] = value
  const input = body && typeof body === 'object' && !Array.isArray(body) ? body as Record<string, unknown> : { body }
  const ex = createExecution(k, { workflowId: wf.id, ownerId: wf.owner_id, input, trigger: { type: 'webhook', headers, body }, source: 'webhook', mode: 'async' })
  engine(k).enqueue(ex.id)
  return { execution_id: ex.id, status: 'queued' as const, status_url: `/api/workflows/executions/${ex.id}` }
}

function onEvent(k: Kernel, e: DomainEvent) {
  if (e.type.startsWith('workflow.')) return // a workflow's own events never trigger workflows (no feedback loops)
  for (const wf of workflowsStore(k.db).byTrigger(e.owner_id, 'event')) {
    const cfg = JSON.parse(wf.trigger_config) as { event?: string; filter?: unknown }
    if (cfg.event !== e.type && cfg.event !== '*') continue
    const trigger = { type: 'event', event: e.type, event_id: e.id, data: e.data, created_at: e.created_at }
    try {
      if (cfg.filter !== undefined && !evaluateCondition(cfg.filter, { input: e.data, trigger, steps: {}, vars: {} }).result) continue
      const ex = createExecution(k, { workflowId: wf.id, ownerId: wf.owner_id, input: e.data, trigger, source: 'event', mode: 'async' })
      engine(k).enqueue(ex.id)
    } catch (err) {
      k.log.warn('event trigger failed', { workflow_id: wf.id, event: e.type, error: (err as Error).message })
    }
  }
}

/** Subscribes once per kernel. */
export const subscribeEventTriggers = (k: Kernel) => k.singleton('workflow-event-triggers', () => {
  const off = k.events.subscribe((e) => onEvent(k, e))
  return { close: off }
})
