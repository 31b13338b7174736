import { t } from 'elysia'

export const RunStatusName = t.Union([t.Literal('queued'), t.Literal('running'), t.Literal('success'), t.Literal('error'), t.Literal('cancelled'), t.Literal('test')])
export const RunSourceName = t.Union([
  t.Literal('endpoint'), t.Literal('bot'), t.Literal('chat'), t.Literal('workflow'), t.Literal('schedule'), t.Literal('task'), t.Literal('openai'), t.Literal('mcp'),
])

/** One run in GET /api/runs and in the live feed's run.updated events. */
export const RunItem = t.Object({
  id: t.String(),
  source: RunSourceName,
  source_id: t.Nullable(t.String({ description: 'The endpoint, bot, conversation, workflow or agent that started it' })),
  status: RunStatusName,
  mode: t.String({ description: 'sync, stream, async or test' }),
  model: t.Nullable(t.String({ description: 'The model, when the surface recorded it' })),
  tokens_input: t.Integer(),
  tokens_output: t.Integer(),
  cost_cents: t.Number(),
  latency_ms: t.Integer(),
  error: t.Nullable(t.String()),
  error_code: t.Nullable(t.String()),
  created_at: t.String(),
  started_at: t.Nullable(t.String()),
  finished_at: t.Nullable(t.String()),
})

export const RunList = t.Object({
  runs: t.Array(RunItem),
  next_cursor: t.Nullable(t.String({ description: 'Pass as `cursor` for the next (older) page; null on the last page' })),
})

export const RunListQuery = t.Object({
  status: t.Optional(RunStatusName),
  source: t.Optional(RunSourceName),
  source_id: t.Optional(t.String({ minLength: 1, maxLength: 100, description: 'The agent: an endpoint, bot, conversation, workflow or agent id' })),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 200, description: 'Newest first (default 50)' })),
  cursor: t.Optional(t.String({ maxLength: 200, description: 'next_cursor of the previous page' })),
  all: t.Optional(t.Union([t.Literal('true'), t.Literal('false')], { description: 'Admin tokens: every user\'s runs' })),
})

export const LiveQuery = t.Object({
  source: t.Optional(RunSourceName),
  source_id: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
  all: t.Optional(t.Union([t.Literal('true'), t.Literal('false')], { description: 'Admin tokens: every user\'s runs' })),
})
