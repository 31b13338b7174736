import type { Kernel } from '../../src/kernel'
import { eventsStore } from './store'

/** Tokens and cost of an execution's llm calls, from its recorded `usage` events (cumulative per model run). */
export function executionUsage(k: Kernel, execId: string): { tokens: number; costCents: number } {
  const perRun = new Map<string, { tokens: number; cost: number }>()
  for (const data of eventsStore(k.db).ofType(execId, 'usage')) {
    const e = JSON.parse(data) as { run_id?: string; tokens_input?: number; tokens_output?: number; cost_cents?: number }
    perRun.set(e.run_id ?? String(perRun.size), { tokens: (e.tokens_input ?? 0) + (e.tokens_output ?? 0), cost: e.cost_cents ?? 0 })
  }
  let tokens = 0
  let costCents = 0
  for (const u of perRun.values()) { tokens += u.tokens; costCents += u.cost }
  return { tokens, costCents }
}

/** The code of the execution's terminal failure (`step_failed`, `cancelled`, `budget_exceeded`), or null. */
export function executionFailureCode(k: Kernel, execId: string): string | null {
  const last = eventsStore(k.db).ofType(execId, 'run.failed').at(-1)
  return last ? ((JSON.parse(last) as { code?: string }).code ?? null) : null
}

/**
 * A cost budget carried in an execution's meta (`cost_budget_cents`, set by deployed agents): the engine checks
 * it after every step that can spend (llm steps, loops) and cancels the execution before the next one.
 */
export const costBudgetOf = (meta: { cost_budget_cents?: unknown }): number | null =>
  typeof meta.cost_budget_cents === 'number' && meta.cost_budget_cents > 0 ? meta.cost_budget_cents : null

export const BUDGET_EXCEEDED = 'budget_exceeded'
export const budgetExceededError = (limitCents: number, spentCents: number) =>
  `The run exceeded its ${limitCents} cent cost budget (it spent ${Math.round(spentCents * 10_000) / 10_000} cents)`
