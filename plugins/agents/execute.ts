import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { cancelExecutionById, createExecution, driveExecution, executionFailureCode, executionUsage, findOwnedWorkflow, getExecution, type LlmOverrides } from '../workflows/service'
import type { AgentConfigInput } from './model'

/**
 * The one seam between agents and the workflow engine (plugins/workflows). Everything the agents
 * domain needs from workflows goes through these functions, so switching engines is this file only.
 */

export interface WorkflowRef { id: string; name: string }

type Budgets = NonNullable<AgentConfigInput['budgets']>

export interface WorkflowRun {
  agentId: string; runId: string; ownerId: string; workflowId: string; config: AgentConfigInput; input: Record<string, unknown>
  trigger: 'scheduled' | 'catchup' | 'manual'; slot: number | null; signal: AbortSignal
  /** Called in the transaction that creates the execution (the run records which one it is). */
  onCreated?: (executionId: string) => void
}

/**
 * `code`: budget_exceeded (the per-run cost budget), timeout (the time budget), else null. `unfinished`: the
 * drive stopped with the execution still going (the engine is shutting down; the next start follows it).
 */
export interface WorkflowOutcome {
  ok: boolean; executionId: string | null; output: unknown; error: string | null; code: string | null; tokens: number; costCents: number; unfinished?: boolean
}

/** The caller's workflow, or null (missing and not-owned look the same). */
export const findWorkflow = (k: Kernel, ownerId: string, workflowId: string): WorkflowRef | null => findOwnedWorkflow(k, ownerId, workflowId)

/**
 * One durable execution of the workflow's current version, driven to its end. agent_config overrides ride
 * in the execution's meta (llm steps' instructions, provider, model, max tokens; the per-run cost budget the
 * engine checks between steps), so an execution resumed after a restart keeps them; the time budget and the
 * scheduler's cancel (overlap cancel_other, delete, shutdown) cancel the execution.
 */
export async function executeWorkflow(k: Kernel, r: WorkflowRun): Promise<WorkflowOutcome> {
  const b = r.config.budgets ?? {}
  const llm: LlmOverrides = { instructions: r.config.instructions, provider: r.config.provider, model: r.config.model, max_tokens: b.max_tokens }
  const startedAt = k.clock.now()
  let exId: string
  try {
    exId = k.db.transaction(() => {
      const ex = createExecution(k, {
        workflowId: r.workflowId, ownerId: r.ownerId, input: r.input, source: r.trigger === 'manual' ? 'manual' : 'schedule', mode: 'sync',
        trigger: { type: r.trigger === 'manual' ? 'manual' : 'schedule', agent_id: r.agentId, slot: r.slot === null ? null : new Date(r.slot).toISOString() },
        meta: {
          agent_id: r.agentId, agent_run_id: r.runId, trigger: r.trigger, llm_overrides: JSON.parse(JSON.stringify(llm)),
          ...(b.max_cost_cents ? { cost_budget_cents: b.max_cost_cents } : {}),
        },
      })
      r.onCreated?.(ex.id)
      return ex.id
    })()
  } catch (err) {
    return { ok: false, executionId: null, output: null, error: err instanceof ApiError ? err.message : (err as Error).message, code: null, tokens: 0, costCents: 0 }
  }
  return driveToEnd(k, exId, b, startedAt, r.signal)
}

/**
 * Whether an execution a stopped process left behind gives its run a real outcome: it goes on (the engine
 * resumes it) or it already ended by itself. Not when it is missing or was cancelled (not by its budget).
 */
export function executionContinues(k: Kernel, executionId: string | null): boolean {
  const ex = executionId ? getExecution(k, executionId) : null
  if (!ex) return false
  return ex.status !== 'cancelled' || executionFailureCode(k, ex.id) === 'budget_exceeded'
}

/** Follows an execution started before a restart to its end (driving it, or joining the engine's resume). */
export const followExecution = (k: Kernel, executionId: string, config: AgentConfigInput, startedAt: number, signal: AbortSignal) =>
  driveToEnd(k, executionId, config.budgets ?? {}, startedAt, signal)

/** Drives the execution; the time budget counts from `startedAt` (the run's start, before any restart). */
async function driveToEnd(k: Kernel, exId: string, b: Budgets, startedAt: number, signal: AbortSignal): Promise<WorkflowOutcome> {
  let timedOut = false
  const cancel = () => cancelExecutionById(k, exId)
  const onTimeout = () => { timedOut = cancelExecutionById(k, exId) }
  signal.addEventListener('abort', cancel, { once: true })
  if (signal.aborted) cancel()
  const timer = b.timeout_seconds ? setTimeout(onTimeout, Math.max(0, startedAt + b.timeout_seconds * 1000 - k.clock.now())) : null
  try {
    await driveExecution(k, exId)
  } finally {
    signal.removeEventListener('abort', cancel)
    if (timer) clearTimeout(timer)
  }
  const done = getExecution(k, exId)
  if (!done) return { ok: false, executionId: exId, output: null, error: 'The execution was deleted', code: null, tokens: 0, costCents: 0 }
  const usage = executionUsage(k, exId)
  const output = done.output === null ? null : JSON.parse(done.output)
  if (['queued', 'running', 'waiting'].includes(done.status)) return { ok: false, executionId: exId, output: null, error: null, code: null, ...usage, unfinished: true }
  if (done.status === 'success') return { ok: true, executionId: exId, output, error: null, code: null, ...usage }
  if (timedOut) return { ok: false, executionId: exId, output, error: `The run exceeded its ${b.timeout_seconds} s time budget`, code: 'timeout', ...usage }
  const code = done.status === 'cancelled' && executionFailureCode(k, exId) === 'budget_exceeded' ? 'budget_exceeded' : null
  return { ok: false, executionId: exId, output, error: done.error ?? `The execution ended ${done.status}`, code, ...usage }
}
