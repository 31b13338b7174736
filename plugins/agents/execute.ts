import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { cancelExecutionById, createExecution, driveExecution, executionUsage, findOwnedWorkflow, getExecution, type LlmOverrides } from '../workflows/service'
import type { AgentConfigInput } from './model'

/**
 * The one seam between agents and the workflow engine (plugins/workflows). Everything the agents
 * domain needs from workflows goes through these functions, so switching engines is this file only.
 */

export interface WorkflowRef { id: string; name: string }

export interface WorkflowRun {
  agentId: string; ownerId: string; workflowId: string; config: AgentConfigInput; input: Record<string, unknown>
  trigger: 'scheduled' | 'catchup' | 'manual'; slot: number | null; signal: AbortSignal
}

export interface WorkflowOutcome { ok: boolean; executionId: string | null; output: unknown; error: string | null; tokens: number; costCents: number }

/** The caller's workflow, or null (missing and not-owned look the same). */
export const findWorkflow = (k: Kernel, ownerId: string, workflowId: string): WorkflowRef | null => findOwnedWorkflow(k, ownerId, workflowId)

/**
 * One durable execution of the workflow's current version, driven to its end. agent_config overrides ride
 * in the execution's meta (llm steps' instructions, provider, model, max tokens); the timeout budget and
 * the scheduler's cancel (overlap cancel_other, delete, shutdown) cancel the execution.
 */
export async function executeWorkflow(k: Kernel, r: WorkflowRun): Promise<WorkflowOutcome> {
  const b = r.config.budgets ?? {}
  const llm: LlmOverrides = { instructions: r.config.instructions, provider: r.config.provider, model: r.config.model, max_tokens: b.max_tokens }
  let ex
  try {
    ex = createExecution(k, {
      workflowId: r.workflowId, ownerId: r.ownerId, input: r.input, source: r.trigger === 'manual' ? 'manual' : 'schedule', mode: 'sync',
      trigger: { type: r.trigger === 'manual' ? 'manual' : 'schedule', agent_id: r.agentId, slot: r.slot === null ? null : new Date(r.slot).toISOString() },
      meta: { agent_id: r.agentId, trigger: r.trigger, llm_overrides: JSON.parse(JSON.stringify(llm)) },
    })
  } catch (err) {
    return { ok: false, executionId: null, output: null, error: err instanceof ApiError ? err.message : (err as Error).message, tokens: 0, costCents: 0 }
  }
  const cancel = () => cancelExecutionById(k, ex.id)
  r.signal.addEventListener('abort', cancel, { once: true })
  const timer = b.timeout_seconds ? setTimeout(cancel, b.timeout_seconds * 1000) : null
  try {
    await driveExecution(k, ex.id)
  } finally {
    r.signal.removeEventListener('abort', cancel)
    if (timer) clearTimeout(timer)
  }
  const done = getExecution(k, ex.id)!
  const usage = executionUsage(k, ex.id)
  const output = done.output === null ? null : JSON.parse(done.output)
  if (done.status === 'success') return { ok: true, executionId: ex.id, output, error: null, ...usage }
  const error = done.status === 'cancelled' && timer && !r.signal.aborted ? `The run exceeded its ${b.timeout_seconds} s time budget` : (done.error ?? `The execution ended ${done.status}`)
  return { ok: false, executionId: ex.id, output, error, ...usage }
}
