/**
 * Triggers other than manual: a webhook per workflow (its own secret in X-Workflow-Secret, compared in constant
 * time; the execution row is written before the 202, so an acknowledged call is never lost) and event
 * triggers (an active workflow whose trigger_config.event names a catalog event runs for each such event of
 * its owner, optionally filtered by a condition over `trigger`).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { perKernel, type Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { evaluateCondition } from '../../src/expr/index'
import type { DomainEvent } from '../../src/events/bus'
import { triggersStore, workflowsStore, type WorkflowRow } from './store'
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

/** Starts the executions an event triggers (a workflow's own events never trigger workflows: no feedback loops). */
function trigger(k: Kernel, e: Pick<DomainEvent, 'id' | 'type' | 'owner_id' | 'data' | 'created_at'>, candidates: WorkflowRow[], replay: boolean): string[] {
  if (e.type.startsWith('workflow.')) return []
  const started: string[] = []
  for (const wf of candidates) {
    if (wf.owner_id !== e.owner_id) continue
    const cfg = JSON.parse(wf.trigger_config) as { event?: string; filter?: unknown }
    if (cfg.event !== e.type && cfg.event !== '*') continue
    if (replay && triggersStore(k.db).hasExecutionFor(wf.id, e.id)) continue
    const trigger = { type: 'event', event: e.type, event_id: e.id, data: e.data, created_at: e.created_at }
    try {
      if (cfg.filter !== undefined && !evaluateCondition(cfg.filter, { input: e.data, trigger, steps: {}, vars: {} }).result) continue
      started.push(createExecution(k, { workflowId: wf.id, ownerId: wf.owner_id, input: e.data, trigger, source: 'event', mode: 'async' }).id)
    } catch (err) {
      k.log.warn('event trigger failed', { workflow_id: wf.id, event: e.type, error: (err as Error).message })
    }
  }
  return started
}

const onEvent = (k: Kernel, e: DomainEvent) => {
  if (!workflowsStore(k.db).hasEventTriggers(e.owner_id)) return
  for (const id of trigger(k, e, workflowsStore(k.db).byTrigger(e.owner_id, 'event'), false)) engine(k).enqueue(id)
}

/**
 * At start-up: events committed before a crash whose trigger had not yet created its execution (listeners run
 * after the publisher's commit) are replayed from the events table, once per (workflow, event).
 */
export function replayEventTriggers(k: Kernel): number {
  const ts = triggersStore(k.db)
  const max = ts.maxSeq()
  const cursor = ts.cursor()
  if (cursor === null) { ts.setCursor(max); return 0 } // first start: history does not trigger anything
  const workflows = ts.activeEventWorkflows()
  if (!workflows.length) { ts.setCursor(max); return 0 }
  const types = [...new Set(workflows.map((w) => String((JSON.parse(w.trigger_config) as { event?: string }).event)))]
  const any = types.includes('*')
  let started = 0
  let at = cursor
  for (;;) {
    const rows = ts.eventsAfter(at, any ? null : types, 500)
    if (!rows.length) break
    for (const r of rows) {
      for (const id of trigger(k, { ...r, data: JSON.parse(r.data) }, workflows, true)) { engine(k).enqueue(id); started++ }
      at = r.seq
    }
  }
  ts.setCursor(Math.max(max, at))
  return started
}

/** Subscribes once per kernel. */
export const subscribeEventTriggers = perKernel((k) => {
  const off = k.events.subscribe((e) => onEvent(k, e))
  return { close: off }
})
