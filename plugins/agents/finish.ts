import type { Kernel } from '../../src/kernel'
import { iso } from '../../src/clock'
import type { WorkflowOutcome } from './execute'
import * as store from './store'

const MAX_OUTPUT_CHARS = 64_000

/**
 * Ends a run with its workflow's outcome and publishes agent.run.completed / agent.run.failed in the same
 * transaction, only when this call ended it: a run's outcome and its event are recorded once.
 */
export function finishAgentRun(k: Kernel, agent: store.AgentRow, run: store.RunRow, o: WorkflowOutcome, signal: AbortSignal, durationMs: number) {
  if (o.unfinished) return // stays running: the next start follows its execution (recover.ts)
  const cancelled = signal.aborted && !o.ok
  const output = o.output === undefined || o.output === null ? null : JSON.stringify(o.output).slice(0, MAX_OUTPUT_CHARS)
  const error = o.ok ? null : cancelled ? `Cancelled: ${String((signal.reason as Error)?.message ?? signal.reason)}` : (o.error ?? 'The run failed')
  k.db.transaction(() => {
    const ended = store.finishRun(k.db, run.id, {
      status: o.ok ? 'succeeded' : cancelled ? 'cancelled' : 'failed', execution_id: o.executionId, output, error, tokens: o.tokens, cost_cents: o.costCents,
      duration_ms: durationMs, finished_at: iso(k.clock.now()),
    })
    if (!ended) return
    const base = {
      agent_id: agent.id, run_id: run.id, workflow_id: agent.workflow_id, execution_id: o.executionId ?? run.execution_id, trigger: run.trigger, manual: run.trigger === 'manual',
      slot: run.slot === null ? null : iso(run.slot), duration_ms: durationMs,
    }
    if (o.ok) k.events.publish('agent.run.completed', { ...base, tokens: o.tokens, cost_cents: o.costCents }, { ownerId: agent.owner_id })
    else k.events.publish('agent.run.failed', { ...base, error: error ?? 'The run failed', code: cancelled ? 'cancelled' : o.code }, { ownerId: agent.owner_id })
  })()
}
