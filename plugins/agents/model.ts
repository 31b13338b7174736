import { t } from 'elysia'

export const AgentConfig = t.Object({
  instructions: t.Optional(t.String({ maxLength: 20_000, description: "Added to the system prompt of the workflow's llm steps" })),
  provider: t.Optional(t.String({ maxLength: 40, description: "Provider for the workflow's llm steps" })),
  model: t.Optional(t.String({ maxLength: 200, description: "Model for the workflow's llm steps" })),
  input_data: t.Optional(t.Record(t.String(), t.Any(), { description: 'Default input of every run (a manual body is merged over it)' })),
  budgets: t.Optional(t.Object({
    max_tokens: t.Optional(t.Integer({ minimum: 1, maximum: 1_000_000, description: 'Max output tokens of each llm step call' })),
    timeout_seconds: t.Optional(t.Integer({ minimum: 1, maximum: 86_400, description: 'A run still going after this long is cancelled' })),
    max_cost_cents: t.Optional(t.Number({
      minimum: 0.01, maximum: 1_000_000,
      description: "Per run: the LLM cost of the run's llm steps so far may not exceed this many cents; when a finished step takes it past, the execution is cancelled before any further step and the run fails (budget_exceeded)",
    })),
    max_cost_cents_per_day: t.Optional(t.Number({
      minimum: 0.01, maximum: 100_000_000,
      description: 'The cost of the runs started in the current UTC day, in cents: once reached, scheduled fires are skipped (counted in skipped_count) and manual runs are refused (402 budget_exceeded) until the next UTC day',
    })),
  }, { additionalProperties: false })),
}, { additionalProperties: false })
export type AgentConfigInput = typeof AgentConfig.static

export const DeployAgent = t.Object({
  workflow_id: t.String({ minLength: 1, maxLength: 100, description: 'A workflow of yours (wf_...)' }),
  agent_config: t.Optional(t.Nullable(AgentConfig)),
}, { additionalProperties: false })

/** Checked field by field in the service so a bad cron or zone answers 400 naming the field. */
export const ScheduleConfig = t.Object({
  type: t.Union([t.Literal('interval'), t.Literal('cron')]),
  interval_seconds: t.Optional(t.Integer({ minimum: 1, maximum: 366 * 86_400 })),
  cron: t.Optional(t.String({ minLength: 1, maxLength: 200, description: '5 fields (minute hour day month weekday) or 6 (seconds first)' })),
  timezone: t.Optional(t.String({ minLength: 1, maxLength: 64, description: 'IANA zone, default UTC' })),
  start_at: t.Optional(t.Nullable(t.String({ maxLength: 40, description: 'ISO 8601; no slot before it' }))),
  end_at: t.Optional(t.Nullable(t.String({ maxLength: 40, description: 'ISO 8601; no slot at or after it' }))),
  jitter_seconds: t.Optional(t.Integer({ minimum: 0, maximum: 86_400 })),
  overlap_policy: t.Optional(t.Union([t.Literal('skip'), t.Literal('buffer_one'), t.Literal('buffer_all'), t.Literal('cancel_other'), t.Literal('allow_all')])),
  catchup_policy: t.Optional(t.Union([t.Literal('none'), t.Literal('latest'), t.Literal('all')])),
  catchup_window_seconds: t.Optional(t.Nullable(t.Integer({ minimum: 1, maximum: 366 * 86_400 }))),
  pause_after_failures: t.Optional(t.Nullable(t.Integer({ minimum: 1, maximum: 1000 }))),
}, { additionalProperties: false })
export type ScheduleConfigInput = typeof ScheduleConfig.static

export const ScheduleAgent = t.Object({ agent_id: t.String({ minLength: 1, maxLength: 100 }), schedule_config: ScheduleConfig }, { additionalProperties: false })
export const AgentParams = t.Object({ agent_id: t.String({ maxLength: 100 }) })

const NormalSchedule = t.Object({
  type: t.String(), interval_seconds: t.Nullable(t.Number()), cron: t.Nullable(t.String()), timezone: t.String(),
  start_at: t.Nullable(t.String()), end_at: t.Nullable(t.String()), jitter_seconds: t.Number(), overlap_policy: t.String(),
  catchup_policy: t.String(), catchup_window_seconds: t.Nullable(t.Number()), pause_after_failures: t.Nullable(t.Number()),
})
const NextRun = t.Object({ utc: t.String(), local: t.String() })

const Budget = t.Object({
  max_cost_cents: t.Nullable(t.Number({ description: 'The per-run cost budget (agent_config.budgets), or null' })),
  max_cost_cents_per_day: t.Nullable(t.Number({ description: 'The daily cost budget, or null' })),
  spent_today_cents: t.Nullable(t.Number({ description: 'Cost of the runs started in the current UTC day (with a daily budget)' })),
  daily_budget_reached: t.Boolean({ description: 'Fires are skipped and manual runs refused until resets_at' }),
  resets_at: t.Nullable(t.String({ description: 'The next UTC midnight (with a daily budget)' })),
  last_skip_reason: t.Nullable(t.String({ description: 'Why the last skipped fire was skipped (a spent daily budget, the overlap policy)' })),
  last_skipped_at: t.Nullable(t.String()),
})

export const Agent = t.Object({
  agent_id: t.String(), workflow_id: t.String(), workflow_name: t.String(), status: t.String(), trigger_type: t.String(),
  agent_config: t.Record(t.String(), t.Any()), schedule: t.Nullable(NormalSchedule), next_run_at: t.Nullable(t.String()),
  created_at: t.String(), updated_at: t.String(),
})
export type AgentView = typeof Agent.static

export const ScheduledResponse = t.Object({
  agent_id: t.String(), status: t.String(), trigger_type: t.String(), schedule: NormalSchedule, timezone: t.String(), next_runs: t.Array(NextRun),
})

export const AgentStatus = t.Object({
  agent_id: t.String(), workflow_id: t.String(), workflow_name: t.String(), status: t.String(), trigger_type: t.String(),
  schedule: t.Union([NormalSchedule, t.Object({})]),
  monitoring: t.Object({
    execution_count: t.Number(), success_count: t.Number(), failure_count: t.Number(), success_rate: t.Number(), last_error: t.Nullable(t.String()),
    last_run_at: t.Nullable(t.String()), next_runs: t.Array(NextRun), missed_count: t.Number(), skipped_count: t.Number(),
    consecutive_failures: t.Number(), running: t.Number(), paused_reason: t.Nullable(t.String()), budget: Budget,
  }),
  performance_metrics: t.Object({
    duration_ms_p50: t.Nullable(t.Number()), duration_ms_p95: t.Nullable(t.Number()), avg_duration_ms: t.Nullable(t.Number()),
    total_tokens: t.Number(), total_cost_cents: t.Number(),
  }),
  created_at: t.String(), updated_at: t.String(),
})

export const AgentRun = t.Object({
  id: t.String(), agent_id: t.String(), trigger: t.String(), manual: t.Boolean(), slot: t.Nullable(t.String()), status: t.String(),
  execution_id: t.Nullable(t.String()), input: t.Any(), output: t.Any(), error: t.Nullable(t.String()), tokens: t.Number(), cost_cents: t.Number(),
  duration_ms: t.Nullable(t.Number()), started_at: t.String(), finished_at: t.Nullable(t.String()),
})
export type AgentRunView = typeof AgentRun.static

export const ExecuteResponse = t.Object({ status: t.String(), run: t.Nullable(AgentRun), message: t.Optional(t.String()) })

export const Analytics = t.Object({
  agent_id: t.String(), period_days: t.Number(),
  executions_per_day: t.Array(t.Object({ date: t.String(), executions: t.Number(), succeeded: t.Number(), failed: t.Number() })),
  execution_count: t.Number(), success_rate: t.Number(),
  duration_ms: t.Object({ avg: t.Nullable(t.Number()), p50: t.Nullable(t.Number()), p95: t.Nullable(t.Number()), max: t.Nullable(t.Number()) }),
  tokens: t.Object({ total: t.Number(), avg_per_run: t.Nullable(t.Number()) }),
  cost: t.Object({ total_cents: t.Number(), avg_per_run_cents: t.Nullable(t.Number()) }),
  common_errors: t.Array(t.Object({ error: t.String(), count: t.Number() })),
  missed_count: t.Number(), skipped_count: t.Number(), budget: Budget,
})
