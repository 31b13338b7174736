import type { Kernel } from '../../src/kernel'
import { iso } from '../../src/clock'
import { timeOrderedId } from '../../src/db/ids'
import { scheduler } from '../../src/scheduler/index'
import type { FireContext, FireOutcome, Handler } from '../../src/scheduler/types'
import { executeWorkflow } from './execute'
import { publishAgentStatus } from './status-event'
import * as store from './store'

const MAX_OUTPUT_CHARS = 64_000

/** One run of an agent: recorded, executed through the workflow adapter, finished with its event. */
export async function runAgent(k: Kernel, agent: store.AgentRow, trigger: store.RunRow['trigger'], slot: number | null, input: unknown, signal: AbortSignal): Promise<store.RunRow> {
  const started = k.clock.now()
  const t0 = performance.now()
  const id = timeOrderedId('arun', started)
  const config = JSON.parse(agent.agent_config)
  const merged = { ...(config.input_data ?? {}), ...(input && typeof input === 'object' && !Array.isArray(input) ? input : input === null || input === undefined ? {} : { value: input }) }
  store.insertRun(k.db, { id, agent_id: agent.id, owner_id: agent.owner_id, trigger, slot, input: JSON.stringify(merged), started_at: iso(started) })
  let o
  try {
    o = await executeWorkflow(k, { agentId: agent.id, ownerId: agent.owner_id, workflowId: agent.workflow_id, config, input: merged, trigger, slot, signal })
  } catch (err) {
    o = { ok: false, executionId: null, output: null, error: (err as Error).message, tokens: 0, costCents: 0 }
  }
  const cancelled = signal.aborted && !o.ok
  const duration = Math.round(performance.now() - t0)
  const output = o.output === undefined || o.output === null ? null : JSON.stringify(o.output).slice(0, MAX_OUTPUT_CHARS)
  const error = o.ok ? null : cancelled ? `Cancelled: ${String((signal.reason as Error)?.message ?? signal.reason)}` : (o.error ?? 'The run failed')
  k.db.transaction(() => {
    store.finishRun(k.db, id, { status: o.ok ? 'succeeded' : cancelled ? 'cancelled' : 'failed', execution_id: o.executionId, output, error, tokens: o.tokens, cost_cents: o.costCents, duration_ms: duration, finished_at: iso(k.clock.now()) })
    const base = { agent_id: agent.id, run_id: id, workflow_id: agent.workflow_id, execution_id: o.executionId, trigger, manual: trigger === 'manual', slot: slot === null ? null : iso(slot), duration_ms: duration }
    if (o.ok) k.events.publish('agent.run.completed', { ...base, tokens: o.tokens, cost_cents: o.costCents }, { ownerId: agent.owner_id })
    else k.events.publish('agent.run.failed', { ...base, error: error ?? 'The run failed' }, { ownerId: agent.owner_id })
  })()
  return store.getRun(k.db, id)!
}

/** The scheduler handler for `agent:<id>` schedules: runs, missed slots and failure streaks become events. */
export function agentHandler(k: Kernel): Handler {
  return {
    async run(ctx: FireContext): Promise<FireOutcome> {
      const agent = ctx.targetId ? store.get(k.db, ctx.targetId) : null
      if (!agent) return { ok: false, error: 'The agent was deleted' }
      const r = await runAgent(k, agent, ctx.kind, ctx.slot, ctx.input, ctx.signal)
      return { ok: r.status === 'succeeded', error: r.error }
    },
    missed(s, count, lastSlot) {
      if (!s.owner_id || !s.target_id) return
      const row = scheduler(k).get(s.id)
      k.events.publish('agent.schedule.missed', {
        agent_id: s.target_id, missed: count, last_missed_slot: iso(lastSlot), missed_count: row?.missed_count ?? count, catchup_policy: row?.catchup_policy ?? null,
      }, { ownerId: s.owner_id })
    },
    failing(s, consecutive, paused, error) {
      if (!s.owner_id || !s.target_id) return
      if (paused) {
        const before = store.get(k.db, s.target_id)?.status ?? null
        store.setStatus(k.db, s.target_id, 'paused', iso(k.clock.now()))
        publishAgentStatus(k, s.target_id, s.owner_id, before, 'paused')
      }
      k.events.publish('agent.schedule.failing', { agent_id: s.target_id, consecutive_failures: consecutive, paused, last_error: error }, { ownerId: s.owner_id })
    },
  }
}
