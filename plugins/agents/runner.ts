import type { Kernel } from '../../src/kernel'
import { iso } from '../../src/clock'
import { timeOrderedId } from '../../src/db/ids'
import { scheduler } from '../../src/scheduler/index'
import type { FireContext, FireOutcome, Handler } from '../../src/scheduler/types'
import { dailyBudget, dailySkipReason } from './budget'
import { executeWorkflow, type WorkflowOutcome } from './execute'
import { finishAgentRun } from './finish'
import { followerOf } from './recover'
import { publishAgentStatus } from './status-event'
import * as store from './store'

/** One run of an agent: recorded, executed through the workflow adapter, finished with its event. */
export async function runAgent(k: Kernel, agent: store.AgentRow, trigger: store.RunRow['trigger'], slot: number | null, input: unknown, signal: AbortSignal): Promise<store.RunRow> {
  const started = k.clock.now()
  const t0 = performance.now()
  const id = timeOrderedId('arun', started)
  const config = JSON.parse(agent.agent_config)
  const merged = { ...(config.input_data ?? {}), ...(input && typeof input === 'object' && !Array.isArray(input) ? input : input === null || input === undefined ? {} : { value: input }) }
  store.insertRun(k.db, { id, agent_id: agent.id, owner_id: agent.owner_id, trigger, slot, input: JSON.stringify(merged), started_at: iso(started) })
  let o: WorkflowOutcome
  try {
    o = await executeWorkflow(k, {
      agentId: agent.id, runId: id, ownerId: agent.owner_id, workflowId: agent.workflow_id, config, input: merged, trigger, slot, signal,
      onCreated: (executionId) => store.setRunExecution(k.db, id, executionId),
    })
  } catch (err) {
    o = { ok: false, executionId: null, output: null, error: (err as Error).message, code: null, tokens: 0, costCents: 0 }
  }
  finishAgentRun(k, agent, store.getRun(k.db, id)!, o, signal, Math.round(performance.now() - t0))
  return store.getRun(k.db, id)!
}

/** A run still open when its drive stopped (shutdown) leaves its fire interrupted, not failed: it is followed at the next start. */
const fireOutcome = (r: store.RunRow): FireOutcome =>
  r.status === 'running' ? { ok: false, interrupted: true, error: 'The process stopped during this run' } : { ok: r.status === 'succeeded', error: r.error }

/** The scheduler handler for `agent:<id>` schedules: runs, missed slots and failure streaks become events. */
export function agentHandler(k: Kernel): Handler {
  return {
    async run(ctx: FireContext): Promise<FireOutcome> {
      const agent = ctx.targetId ? store.get(k.db, ctx.targetId) : null
      if (!agent) return { ok: false, error: 'The agent was deleted' }
      return fireOutcome(await runAgent(k, agent, ctx.kind, ctx.slot, ctx.input, ctx.signal))
    },
    refuse(s) {
      const agent = s.target_id ? store.get(k.db, s.target_id) : null
      const b = agent ? dailyBudget(k, agent) : null
      return b?.reached ? dailySkipReason(b.limit_cents) : null
    },
    resume(ctx) {
      const run = ctx.targetId ? store.runBySlot(k.db, ctx.targetId, ctx.slot) : null
      const f = run ? followerOf(k, run.id) : null
      if (!f) return null
      ctx.signal.addEventListener('abort', () => f.ctrl.abort(ctx.signal.reason), { once: true })
      return f.done.then((r) => (r ? fireOutcome(r) : { ok: false, error: 'The agent was deleted' }))
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
