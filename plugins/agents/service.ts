import type { Kernel } from '../../src/kernel'
import type { Principal } from '../../src/auth/principal'
import { ApiError, notFound } from '../../src/http/errors'
import { newId } from '../../src/db/ids'
import { iso, nowIso } from '../../src/clock'
import { scheduler } from '../../src/scheduler/index'
import { nextSlots } from '../../src/scheduler/calendar'
import { specOf, type ScheduleRow } from '../../src/scheduler/store'
import { dailyBudget, dailyRefusal } from './budget'
import { findWorkflow } from './execute'
import { runAgent } from './runner'
import { runTimes, toConfig, toSpec } from './schedule-config'
import { publishAgentStatus } from './status-event'
import * as store from './store'
import type { AgentConfigInput, AgentRunView, AgentView, ScheduleConfigInput } from './model'

export const MAX_AGENTS_PER_OWNER = 200

/** The caller's agent; another owner's looks missing. */
export function requireAgent(k: Kernel, who: Principal, id: string): store.AgentRow {
  const a = store.get(k.db, id)
  if (!a || a.owner_id !== who.userId) throw notFound('Agent')
  return a
}

const scheduleOf = (k: Kernel, a: store.AgentRow): ScheduleRow | null => (a.schedule_id ? scheduler(k).get(a.schedule_id) ?? null : null)

/** The next `n` slot times: the persisted next slot first. */
function upcoming(k: Kernel, s: ScheduleRow | null, n: number): number[] {
  if (!s || s.status !== 'active' || s.next_slot === null) return []
  return [s.next_slot, ...nextSlots(specOf(s), s.next_slot, s.anchor_ms, n - 1)]
}

export function view(k: Kernel, a: store.AgentRow): AgentView {
  const s = scheduleOf(k, a)
  return {
    agent_id: a.id, workflow_id: a.workflow_id, workflow_name: a.workflow_name, status: a.status, trigger_type: s ? 'schedule' : 'manual',
    agent_config: JSON.parse(a.agent_config), schedule: s ? toConfig(specOf(s)) : null,
    next_run_at: s && s.status === 'active' && s.next_run_at !== null ? iso(s.next_run_at) : null, created_at: a.created_at, updated_at: a.updated_at,
  }
}

export function deploy(k: Kernel, who: Principal, workflowId: string, config: AgentConfigInput | null | undefined): AgentView {
  const wf = findWorkflow(k, who.userId, workflowId)
  if (!wf) throw notFound('Workflow')
  if (store.listOwned(k.db, who.userId).length >= MAX_AGENTS_PER_OWNER) throw new ApiError(409, `You already have ${MAX_AGENTS_PER_OWNER} agents, the most allowed; delete one first`, 'limit_reached')
  const now = nowIso(k.clock)
  const row: store.AgentRow = {
    id: newId('agt'), owner_id: who.userId, workflow_id: wf.id, workflow_name: wf.name, agent_config: JSON.stringify(config ?? {}),
    status: 'active', schedule_config: null, schedule_id: null, created_at: now, updated_at: now,
  }
  k.db.transaction(() => {
    store.insert(k.db, row)
    publishAgentStatus(k, row.id, row.owner_id, null, 'active')
  })()
  return view(k, row)
}

export function schedule(k: Kernel, who: Principal, agentId: string, config: ScheduleConfigInput) {
  const a = requireAgent(k, who, agentId)
  const spec = toSpec(config)
  const s = scheduler(k)
  const row = k.db.transaction(() => {
    const existing = scheduleOf(k, a)
    const r = existing ? s.update(existing.id, spec) : s.create({ name: `agent:${a.id}`, handler: 'agent', targetId: a.id, ownerId: a.owner_id, spec, paused: a.status === 'paused' })
    store.setSchedule(k.db, a.id, JSON.stringify(toConfig(spec)), r.id, nowIso(k.clock))
    return r
  })()
  const next = row.next_slot === null ? [] : [row.next_slot, ...nextSlots(spec, row.next_slot, row.anchor_ms, 4)]
  return { agent_id: a.id, status: a.status, trigger_type: 'schedule', schedule: toConfig(spec), timezone: spec.timezone, next_runs: runTimes(next, spec.timezone) }
}

export const list = (k: Kernel, who: Principal) => store.listOwned(k.db, who.userId).map((a) => view(k, a))

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null)
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d

/** The cost budgets as the status and analytics show them (null fields: no such budget). */
function budgetView(k: Kernel, a: store.AgentRow, s: ScheduleRow | null) {
  const d = dailyBudget(k, a)
  const perRun = (JSON.parse(a.agent_config) as AgentConfigInput).budgets?.max_cost_cents ?? null
  return {
    max_cost_cents: perRun, max_cost_cents_per_day: d?.limit_cents ?? null, spent_today_cents: d?.spent_cents ?? null,
    daily_budget_reached: d?.reached ?? false, resets_at: d?.resets_at ?? null,
    last_skip_reason: s?.last_skip_reason ?? null, last_skipped_at: s?.last_skipped_at ? iso(s.last_skipped_at) : null,
  }
}

export function status(k: Kernel, who: Principal, agentId: string) {
  const a = requireAgent(k, who, agentId)
  const s = scheduleOf(k, a)
  const tt = store.totals(k.db, a.id)
  const finished = tt.ok + tt.failed
  const d = store.durations(k.db, a.id)
  const tz = s?.timezone ?? 'UTC'
  return {
    agent_id: a.id, workflow_id: a.workflow_id, workflow_name: a.workflow_name, status: a.status, trigger_type: s ? 'schedule' : 'manual',
    schedule: s ? toConfig(specOf(s)) : {},
    monitoring: {
      execution_count: tt.n, success_count: tt.ok, failure_count: tt.failed, success_rate: finished ? round((tt.ok / finished) * 100, 1) : 0,
      last_error: store.lastError(k.db, a.id), last_run_at: tt.last_run_at, next_runs: runTimes(upcoming(k, s, 5), tz),
      missed_count: s?.missed_count ?? 0, skipped_count: s?.skipped_count ?? 0, consecutive_failures: s?.consecutive_failures ?? 0,
      running: tt.running, paused_reason: a.status === 'paused' ? (s?.paused_reason ?? 'user') : null, budget: budgetView(k, a, s),
    },
    performance_metrics: {
      duration_ms_p50: pct(d, 50), duration_ms_p95: pct(d, 95), avg_duration_ms: d.length ? Math.round(d.reduce((x, y) => x + y, 0) / d.length) : null,
      total_tokens: tt.tokens, total_cost_cents: round(tt.cost, 4),
    },
    created_at: a.created_at, updated_at: a.updated_at,
  }
}

export function pause(k: Kernel, who: Principal, agentId: string) {
  const a = requireAgent(k, who, agentId)
  k.db.transaction(() => {
    store.setStatus(k.db, a.id, 'paused', nowIso(k.clock))
    if (a.schedule_id) scheduler(k).pause(a.schedule_id, 'user')
    publishAgentStatus(k, a.id, a.owner_id, a.status, 'paused')
  })()
  return view(k, store.get(k.db, a.id)!)
}

/** Active again; slots that passed while paused get the catch-up policy once (never more than it allows). */
export function resume(k: Kernel, who: Principal, agentId: string) {
  const a = requireAgent(k, who, agentId)
  k.db.transaction(() => {
    store.setStatus(k.db, a.id, 'active', nowIso(k.clock))
    if (a.schedule_id) scheduler(k).resume(a.schedule_id)
    publishAgentStatus(k, a.id, a.owner_id, a.status, 'active')
  })()
  return view(k, store.get(k.db, a.id)!)
}

export function remove(k: Kernel, who: Principal, agentId: string) {
  const a = requireAgent(k, who, agentId)
  k.db.transaction(() => {
    if (a.schedule_id) scheduler(k).remove(a.schedule_id)
    store.remove(k.db, a.id)
    publishAgentStatus(k, a.id, a.owner_id, a.status, 'deleted')
  })()
}

export function runView(r: store.RunRow): AgentRunView {
  return {
    id: r.id, agent_id: r.agent_id, trigger: r.trigger, manual: r.trigger === 'manual', slot: r.slot === null ? null : iso(r.slot), status: r.status,
    execution_id: r.execution_id, input: r.input ? JSON.parse(r.input) : null, output: r.output ? JSON.parse(r.output) : null, error: r.error,
    tokens: r.tokens, cost_cents: r.cost_cents, duration_ms: r.duration_ms, started_at: r.started_at, finished_at: r.finished_at,
  }
}

/**
 * A manual run. On a scheduled agent it goes through the schedule's overlap policy: started (answered
 * when done), queued behind the running fire (202), or refused while one runs (409).
 */
export async function execute(k: Kernel, who: Principal, agentId: string, input: unknown): Promise<{ code: number; body: { status: string; run: AgentRunView | null; message?: string } }> {
  const a = requireAgent(k, who, agentId)
  // 402 like the run service's spending caps: a money limit the caller can raise (or wait out), not a
  // conflict that ends by itself like a running fire (409 overlap_skipped).
  const budget = dailyBudget(k, a)
  if (budget?.reached && !a.schedule_id) throw new ApiError(402, dailyRefusal(budget), 'budget_exceeded', { budget: 'max_cost_cents_per_day' })
  if (!a.schedule_id) {
    const r = await runAgent(k, a, 'manual', k.clock.now(), input, new AbortController().signal)
    return { code: 200, body: { status: r.status, run: runView(r) } }
  }
  const f = scheduler(k).fireManual(a.schedule_id, input ?? null)
  if (f.status === 'refused') throw new ApiError(402, budget?.reached ? dailyRefusal(budget) : (f.reason ?? 'The run was refused'), 'budget_exceeded', { budget: 'max_cost_cents_per_day' })
  if (f.status === 'skipped') throw new ApiError(409, 'The agent is already running and its overlap policy is "skip"; the manual run was not started', 'overlap_skipped')
  if (f.status === 'buffered') return { code: 202, body: { status: 'buffered', run: null, message: 'Queued behind the running fire (overlap policy); it starts when that one ends' } }
  await f.done
  const r = store.runBySlot(k.db, a.id, f.slot)
  return { code: 200, body: { status: r?.status ?? 'failed', run: r ? runView(r) : null } }
}

export function analytics(k: Kernel, who: Principal, agentId: string, days = 30) {
  const a = requireAgent(k, who, agentId)
  const s = scheduleOf(k, a)
  const tt = store.totals(k.db, a.id)
  const d = store.durations(k.db, a.id, 10_000)
  const finished = tt.ok + tt.failed
  const since = iso(k.clock.now() - days * 86_400_000).slice(0, 10)
  return {
    agent_id: a.id, period_days: days,
    executions_per_day: store.perDay(k.db, a.id, since),
    execution_count: tt.n, success_rate: finished ? round((tt.ok / finished) * 100, 1) : 0,
    duration_ms: { avg: d.length ? Math.round(d.reduce((x, y) => x + y, 0) / d.length) : null, p50: pct(d, 50), p95: pct(d, 95), max: d.length ? d[d.length - 1] : null },
    tokens: { total: tt.tokens, avg_per_run: tt.n ? Math.round(tt.tokens / tt.n) : null },
    cost: { total_cents: round(tt.cost, 4), avg_per_run_cents: tt.n ? round(tt.cost / tt.n, 4) : null },
    common_errors: store.commonErrors(k.db, a.id),
    missed_count: s?.missed_count ?? 0, skipped_count: s?.skipped_count ?? 0, budget: budgetView(k, a, s),
  }
}

/** Raw rows for other surfaces (/v1's agent directory); they apply their own access rules. null owner = all. */
export const findRow = (k: Kernel, id: string) => store.get(k.db, id)
export const listRows = (k: Kernel, ownerId: string | null) => store.list(k.db, ownerId)
