import type { Kernel } from '../../src/kernel'
import { iso } from '../../src/clock'
import type { AgentConfigInput } from './model'
import * as store from './store'

const DAY_MS = 86_400_000
const round = (n: number) => Math.round(n * 10_000) / 10_000

export interface DailyBudget { limit_cents: number; spent_cents: number; reached: boolean; day_starts_at: string; resets_at: string }

/**
 * An agent's max_cost_cents_per_day: the cost of its runs started in the current UTC day (finished runs, at
 * their recorded cost) against the limit; null when the agent has none. Checked before a fire or a manual
 * run starts, never during one: the per-run max_cost_cents is what cuts a running execution short.
 */
export function dailyBudget(k: Kernel, agent: store.AgentRow): DailyBudget | null {
  const limit = (JSON.parse(agent.agent_config) as AgentConfigInput).budgets?.max_cost_cents_per_day
  if (!limit) return null
  const dayStart = Math.floor(k.clock.now() / DAY_MS) * DAY_MS
  const spent = store.spentSince(k.db, agent.id, iso(dayStart))
  return { limit_cents: limit, spent_cents: round(spent), reached: spent >= limit, day_starts_at: iso(dayStart), resets_at: iso(dayStart + DAY_MS) }
}

/** The reason recorded on each fire skipped for it (one text per limit, so skips group together). */
export const dailySkipReason = (limitCents: number) => `Skipped: the agent's daily cost budget of ${limitCents} cents (UTC day) is reached`

/** What a refused manual run answers: the budget, today's spend and when it resets. */
export const dailyRefusal = (b: DailyBudget) =>
  `The agent's daily cost budget of ${b.limit_cents} cents is reached (${b.spent_cents} cents spent since ${b.day_starts_at}); runs start again at ${b.resets_at}`
