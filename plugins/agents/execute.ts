import type { Kernel } from '../../src/kernel'
import type { ProviderName } from '../../src/agent/types'
import { collect, run } from '../../src/agent/run'
import type { AgentConfigInput } from './model'

/**
 * The one seam between agents and the workflow engine (plugins/workflows). Everything the agents
 * domain needs from workflows goes through these functions, so switching engines is this file only.
 */

export interface WorkflowRef { id: string; name: string }

export interface WorkflowRun {
  agentId: string; ownerId: string; workflowId: string; config: AgentConfigInput; input: Record<string, unknown>
  trigger: 'scheduled' | 'catchup' | 'manual'; signal: AbortSignal
}

export interface WorkflowOutcome { ok: boolean; executionId: string | null; output: unknown; error: string | null; tokens: number; costCents: number }

const hasWorkflows = (k: Kernel) =>
  !!k.db.query<{ x: number }, []>("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'workflows'").get()

/** The caller's workflow, or null (missing and not-owned look the same). */
export function findWorkflow(k: Kernel, ownerId: string, workflowId: string): WorkflowRef | null {
  if (!hasWorkflows(k)) return null
  return k.db.query<WorkflowRef, [string, string]>('SELECT id, name FROM workflows WHERE id = ? AND owner_id = ?').get(workflowId, ownerId) ?? null
}

interface LlmStep { id: string; type: string; prompt?: string; system_prompt?: string; provider?: string; model?: string }

/** Runs the workflow's llm steps in order through the agent runtime, each seeing the input and the previous output. */
export async function executeWorkflow(k: Kernel, r: WorkflowRun): Promise<WorkflowOutcome> {
  const row = k.db.query<{ steps: string }, [string, string]>('SELECT steps FROM workflows WHERE id = ? AND owner_id = ?').get(r.workflowId, r.ownerId)
  if (!row) return { ok: false, executionId: null, output: null, error: 'The workflow no longer exists', tokens: 0, costCents: 0 }
  const steps = JSON.parse(row.steps) as LlmStep[]
  let previous: unknown = null
  let tokens = 0
  let cost = 0
  for (const step of steps) {
    if (step.type !== 'llm') return { ok: false, executionId: null, output: previous, error: `Step "${step.id}" (${step.type}) needs the workflow engine`, tokens, costCents: cost }
    const c = await collect(run(k, {
      systemPrompt: [step.system_prompt, r.config.instructions].filter(Boolean).join('\n\n') || 'You are an autonomous agent.',
      provider: (r.config.provider ?? step.provider ?? 'openai') as ProviderName, model: r.config.model ?? step.model ?? 'gpt-4o-mini',
      ownerId: r.ownerId, surface: 'agent', timeoutMs: r.config.budgets?.timeout_seconds ? Math.min(60_000, r.config.budgets.timeout_seconds * 1000) : undefined,
      maxTokens: r.config.budgets?.max_tokens,
    }, { message: `${step.prompt ?? ''}\n\nInput: ${JSON.stringify(r.input)}${previous === null ? '' : `\nPrevious step: ${JSON.stringify(previous)}`}` }, { signal: r.signal, stream: false }))
    tokens += c.result.usage.tokens_input + c.result.usage.tokens_output
    cost += c.result.usage.cost_cents
    if (!c.ok) return { ok: false, executionId: null, output: previous, error: c.error, tokens, costCents: cost }
    previous = c.result.output
  }
  return { ok: true, executionId: null, output: previous, error: null, tokens, costCents: cost }
}
