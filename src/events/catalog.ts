import { Type as t, type Static, type TSchema } from '@sinclair/typebox'
import { compileSchema } from '../agent/ajv'

/**
 * The documented catalog of events that domains publish (`k.events.publish(type, data, who)`) and that
 * webhooks subscribe to. Each delivery's body is `{ type, timestamp, data }`; `data` is what the publisher
 * passed. Each entry's TypeBox `schema` is the contract: `publish` is typed against it (a payload that differs
 * does not compile), the example is checked against it, and tests/events-catalog.test.ts validates every
 * event the app publishes. Receivers can rely on the schema's fields; publishers may add fields.
 * A new event type (workflows, scheduled agents) is one entry here, with its schema, plus a publish call.
 */
export interface EventSpec {
  description: string
  /** The scope a bot account needs for its webhooks to receive this event when it did not cause it. */
  scope: string | null
  /** The payload's shape (required for every entry; optional in the type only so branches in flight compile). */
  schema?: TSchema
  example: Record<string, unknown>
}

const Id = (description?: string) => t.String(description ? { description } : {})
const Nullable = <T extends TSchema>(s: T) => t.Union([s, t.Null()])

/** The fields every agent.run.* event carries, plus its own. */
const agentRunBase = <P extends Record<string, TSchema>>(extra: P) => ({
  agent_id: Id('agt_...'), run_id: Id('arun_...'), workflow_id: Id('wf_...'), execution_id: Nullable(t.String()),
  trigger: t.String({ description: 'scheduled, catchup or manual' }), manual: t.Boolean(), slot: Nullable(t.String()),
  duration_ms: t.Number(), ...extra,
})
const Platform = t.String({ description: 'telegram, discord, slack, whatsapp or custom' })
const ToolCallSummary = t.Object({ tool: t.String(), success: t.Boolean(), latency_ms: t.Number() })
const RunUsage = t.Object({
  tokens_input: t.Integer(), tokens_output: t.Integer(), cost_cents: t.Number(), latency_ms: t.Integer(), iterations: t.Integer(),
})
const RunStatus = t.Union([t.Literal('success'), t.Literal('error'), t.Literal('cancelled'), t.Literal('test')])
const RunBase = {
  run_id: Id('run_...'),
  source: t.String({ description: 'endpoint, bot, chat, workflow, schedule, task, openai or mcp' }),
  source_id: Nullable(t.String({ description: 'The endpoint, bot, conversation, workflow... that started the run' })),
  endpoint_id: t.Optional(Id('Runs of agent endpoints')),
  bot_id: t.Optional(Id('Runs of bots')),
  conversation_id: t.Optional(Id('Runs of bot or chat conversations')),
  status: RunStatus,
  usage: RunUsage,
}
const BotStatus = t.Union([t.Literal('draft'), t.Literal('active'), t.Literal('paused'), t.Literal('error'), t.Literal('deleted')])

const schemas = {
  'bot.message.received': t.Object({
    bot_id: Id(), conversation_id: Id(), message_id: Id(), platform: Platform, platform_chat_id: t.String(), platform_user_id: t.String(),
    user_name: Nullable(t.String()), text: t.String(),
  }),
  'bot.message.sent': t.Object({
    bot_id: Id(), conversation_id: Id(), message_id: Id(), reply_to: Id('The user message answered'), platform: Platform, platform_chat_id: t.String(),
    text: t.String(), failed: t.Boolean({ description: 'true when the text is the fallback message' }), error: Nullable(t.String()),
    run_id: Nullable(t.String({ description: 'The run that produced the answer; null when no model ran (a gate refused it)' })),
    tool_calls: t.Array(ToolCallSummary), tokens: t.Object({ input: t.Integer(), output: t.Integer() }), cost_cents: t.Number(),
  }),
  'bot.conversation.started': t.Object({
    bot_id: Id(), conversation_id: Id(), platform: Platform, platform_chat_id: t.String(), platform_user_id: t.String(),
    previous_conversation_id: Nullable(t.String({ description: 'The conversation that expired, when this one replaces it' })),
  }),
  'bot.status.changed': t.Object({
    bot_id: Id(), platform: Platform, status: BotStatus, previous_status: BotStatus, reason: Nullable(t.String()),
  }),
  'run.completed': t.Object(RunBase),
  'run.failed': t.Object({ ...RunBase, error: t.String(), code: t.String() }),
  'endpoint.status.changed': t.Object({
    endpoint_id: Id(), slug: t.String(), status: t.Union([t.Literal('active'), t.Literal('paused')]), previous_status: t.String(),
  }),
  'tool.call.failed': t.Object({
    tool: t.String(), run_id: Nullable(t.String()), server_id: Nullable(t.String()), error: Nullable(t.String()), duration_ms: t.Integer(),
    call_id: t.String(), source: Nullable(t.String()), connection_id: Nullable(t.String()), surface: t.String(), workspace_id: Nullable(t.String()),
  }),
  'wallet.balance.low': t.Object({ user_id: Id(), balance_cents: t.Number(), threshold_cents: t.Number() }),
  'webhook.test': t.Object({ webhook_id: Id(), message: t.String() }),
  'workflow.execution.completed': t.Object({
    execution_id: Id('wfx_...'), workflow_id: Id('wf_...'), version: t.Number({ description: 'The workflow version the execution was pinned to' }),
    source: t.String({ description: 'manual, webhook, event, schedule, chat or tool' }), output: t.Any({ description: 'The last step output' }),
    duration_ms: Nullable(t.Number()),
  }),
  'workflow.execution.failed': t.Object({
    execution_id: Id('wfx_...'), workflow_id: Id('wf_...'), version: t.Number(), source: t.String(), error: t.String(),
    step_id: Nullable(t.String({ description: 'The step that failed' })),
  }),
  'agent.run.completed': t.Object(agentRunBase({ tokens: t.Number(), cost_cents: t.Number() })),
  'agent.run.failed': t.Object(agentRunBase({
    error: t.String(), code: Nullable(t.String({ description: 'budget_exceeded (the per-run cost budget), timeout (the time budget), cancelled, or null' })),
  })),
  'agent.schedule.missed': t.Object({
    agent_id: Id('agt_...'), missed: t.Number({ description: 'Slots missed this time' }), last_missed_slot: t.String(),
    missed_count: t.Number({ description: 'Missed slots over the schedule\'s life' }), catchup_policy: Nullable(t.String()),
  }),
  'agent.schedule.failing': t.Object({
    agent_id: Id('agt_...'), consecutive_failures: t.Number(), paused: t.Boolean({ description: 'The agent paused itself (pause_after_failures)' }),
    last_error: Nullable(t.String()),
  }),
  // /v1 (issue 15): an agent is a bot (bt_), an agent endpoint (aep_) or a scheduled agent (agt_).
  'agent.task.completed': t.Object({
    task_id: Id('task_...'), agent_id: Id(), message_id: Id('The message that started the task'),
    state: t.Union([t.Literal('completed'), t.Literal('failed'), t.Literal('canceled')]),
    output: Nullable(t.String()), run_id: Nullable(t.String()), error: Nullable(t.String()), code: Nullable(t.String()),
    usage: t.Object({ tokens_input: t.Integer(), tokens_output: t.Integer(), cost_cents: t.Number() }),
  }),
  'agent.message.received': t.Object({
    agent_id: Id(), message_id: Id(), channel: t.String({ description: 'api (or the /v1 message\'s channel), openai, mcp, or the bot\'s platform' }),
    content: t.String(), task_id: t.Optional(Id('/v1 messages')), run_id: t.Optional(Id('Endpoint runs')),
    conversation_id: t.Optional(Id('Bot conversations')), metadata: t.Optional(Nullable(t.Record(t.String(), t.Unknown()))),
  }),
  'agent.message.sent': t.Object({
    agent_id: Id(), message_id: Id(), reply_to: Id('The message answered'), channel: t.String(), content: t.String(),
    task_id: t.Optional(Id()), run_id: t.Optional(Nullable(t.String())), conversation_id: t.Optional(Id()),
    failed: t.Optional(t.Boolean({ description: 'Bots: true when the content is the fallback message' })),
  }),
  'agent.status.changed': t.Object({
    agent_id: Id(), type: t.Union([t.Literal('bot'), t.Literal('endpoint'), t.Literal('scheduled')]),
    status: t.Union([t.Literal('online'), t.Literal('offline')]), previous_status: t.Union([t.Literal('online'), t.Literal('offline')]),
  }),
  'agent.skill.installed': t.Object({
    agent_id: Id(), type: t.Union([t.Literal('bot'), t.Literal('endpoint')]), skills: t.Array(t.String({ description: 'The skills installed now' })),
    tools: t.Array(t.String(), { description: 'The whole allow-list after the change; ["*"] = every workspace tool' }),
  }),
  'billing.invoice.created': t.Object({
    invoice_id: Id('inv_...'), user_id: Id(), period: t.String({ description: 'YYYY-MM' }), total_cents: t.Number(),
    lines: t.Array(t.Object({ reason: t.String(), count: t.Integer(), amount_cents: t.Number() })),
  }),
}

export const EVENT_CATALOG = {
  'bot.message.received': {
    description: 'A bot received a message from a platform user (Telegram, Discord, Slack, WhatsApp, web).',
    scope: 'conversations.read',
    schema: schemas['bot.message.received'],
    example: { bot_id: 'bt_4f0QkT1pZ8mYb2cV6nXe', conversation_id: 'bconv_Q2w3E4r5T6y7U8i9O0pA', message_id: 'bmsg_Z1x2C3v4B5n6M7a8S9dF', platform: 'telegram', platform_chat_id: '123456789', platform_user_id: '123456789', user_name: 'Ada', text: 'What are your opening hours?' },
  },
  'bot.message.sent': {
    description: 'A bot sent a reply to a platform user (its answer, or the fallback message when the run failed or was refused).',
    scope: 'conversations.read',
    schema: schemas['bot.message.sent'],
    example: { bot_id: 'bt_4f0QkT1pZ8mYb2cV6nXe', conversation_id: 'bconv_Q2w3E4r5T6y7U8i9O0pA', message_id: 'bmsg_G1h2J3k4L5z6X7c8V9bN', reply_to: 'bmsg_Z1x2C3v4B5n6M7a8S9dF', platform: 'telegram', platform_chat_id: '123456789', text: 'We are open 9:00-17:00, Monday to Friday.', failed: false, error: null, run_id: 'run_P0o9I8u7Y6t5R4e3W2qA', tool_calls: [], tokens: { input: 812, output: 164 }, cost_cents: 0.0221 },
  },
  'bot.conversation.started': {
    description: 'A new conversation began between a bot and a platform user.',
    scope: 'conversations.read',
    schema: schemas['bot.conversation.started'],
    example: { bot_id: 'bt_4f0QkT1pZ8mYb2cV6nXe', conversation_id: 'bconv_Q2w3E4r5T6y7U8i9O0pA', platform: 'telegram', platform_chat_id: '123456789', platform_user_id: '123456789', previous_conversation_id: null },
  },
  'bot.status.changed': {
    description: 'A bot was activated, paused, deleted, or went into an error state.',
    scope: 'bots.read',
    schema: schemas['bot.status.changed'],
    example: { bot_id: 'bt_4f0QkT1pZ8mYb2cV6nXe', platform: 'telegram', status: 'active', previous_status: 'paused', reason: null },
  },
  'run.completed': {
    description: 'An agent run (endpoint call, bot reply, chat message, workflow step or scheduled agent) finished successfully.',
    scope: 'endpoints.read',
    schema: schemas['run.completed'],
    example: { run_id: 'run_P0o9I8u7Y6t5R4e3W2qA', source: 'endpoint', source_id: 'aep_M1n2B3v4C5x6Z7l8K9jH', endpoint_id: 'aep_M1n2B3v4C5x6Z7l8K9jH', status: 'success', usage: { tokens_input: 812, tokens_output: 164, cost_cents: 0.0221, latency_ms: 1840, iterations: 1 } },
  },
  'run.failed': {
    description: 'An agent run failed (provider error, timeout, budget exceeded, tool loop limit), was cancelled, or was interrupted by a restart.',
    scope: 'endpoints.read',
    schema: schemas['run.failed'],
    example: { run_id: 'run_A9s8D7f6G5h4J3k2L1zX', source: 'endpoint', source_id: 'aep_M1n2B3v4C5x6Z7l8K9jH', endpoint_id: 'aep_M1n2B3v4C5x6Z7l8K9jH', status: 'error', usage: { tokens_input: 0, tokens_output: 0, cost_cents: 0, latency_ms: 412, iterations: 1 }, error: 'The model provider answered 429 Too Many Requests', code: 'upstream_failed' },
  },
  'endpoint.status.changed': {
    description: 'An agent endpoint was activated or paused.',
    scope: 'endpoints.read',
    schema: schemas['endpoint.status.changed'],
    example: { endpoint_id: 'aep_M1n2B3v4C5x6Z7l8K9jH', slug: 'support-triage', status: 'paused', previous_status: 'active' },
  },
  'tool.call.failed': {
    description: 'A tool call made by an agent failed (MCP server error, HTTP error, timeout, refused URL).',
    scope: 'tools.read',
    schema: schemas['tool.call.failed'],
    example: { tool: 'http_request', run_id: 'run_P0o9I8u7Y6t5R4e3W2qA', server_id: null, error: 'Request to api.example.com timed out after 15000 ms', duration_ms: 15002, call_id: 'tcall_X1c2V3b4N5m6L7k8J9hG', source: 'builtin', connection_id: null, surface: 'endpoint', workspace_id: 'ws_Q1w2E3r4T5y6U7i8O9pL' },
  },
  'wallet.balance.low': {
    description: 'The wallet balance fell below the low-balance threshold (1 dollar).',
    scope: 'wallet.read',
    schema: schemas['wallet.balance.low'],
    example: { user_id: 'usr_R5t6Y7u8I9o0P1a2S3dF', balance_cents: 87.5, threshold_cents: 100 },
  },
  'workflow.execution.completed': {
    description: 'A workflow execution finished successfully (manual, webhook, event or scheduled).',
    scope: 'workflows.read',
    schema: schemas['workflow.execution.completed'],
    example: { execution_id: 'wfx_Lm3Nb4Vc5Xz6Aq7Sw8De', workflow_id: 'wf_Rt5Yu6Io7Pa8Sd9Fg0Hj', version: 3, source: 'webhook', output: { posted: true }, duration_ms: 1240 },
  },
  'workflow.execution.failed': {
    description: 'A workflow execution failed: a step failed after its retries (and did not continue on error).',
    scope: 'workflows.read',
    schema: schemas['workflow.execution.failed'],
    example: { execution_id: 'wfx_Lm3Nb4Vc5Xz6Aq7Sw8De', workflow_id: 'wf_Rt5Yu6Io7Pa8Sd9Fg0Hj', version: 3, source: 'manual', error: 'Tool "slack_send_message" failed: channel_not_found', step_id: 'notify' },
  },
  // The /v1 API's events (reference: v1-api.txt).
  'agent.task.completed': {
    description: 'An agent finished a /v1 task (the run a message started): completed, failed or canceled.',
    scope: 'endpoints.read',
    schema: schemas['agent.task.completed'],
    example: { task_id: 'task_0Q2w3E4r5T6y7U8i9O0p', agent_id: 'aep_M1n2B3v4C5x6Z7l8K9jH', message_id: 'msg_Z1x2C3v4B5n6M7a8S9dF', state: 'completed', output: 'Booked: table for 4 at 19:00.', run_id: 'run_P0o9I8u7Y6t5R4e3W2qA', error: null, code: null, usage: { tokens_input: 812, tokens_output: 164, cost_cents: 0.0221 } },
  },
  'agent.message.received': {
    description: 'An agent received a message (a /v1 message, an OpenAI-compatible or MCP call, or a bot\'s platform message).',
    scope: 'conversations.read',
    schema: schemas['agent.message.received'],
    example: { agent_id: 'bt_4f0QkT1pZ8mYb2cV6nXe', message_id: 'msg_Z1x2C3v4B5n6M7a8S9dF', channel: 'api', content: 'Book a table for 4 at 7pm tomorrow', metadata: { customer_id: 'cust_456' } },
  },
  'agent.message.sent': {
    description: 'An agent sent a message (its answer).',
    scope: 'conversations.read',
    schema: schemas['agent.message.sent'],
    example: { agent_id: 'bt_4f0QkT1pZ8mYb2cV6nXe', message_id: 'bmsg_G1h2J3k4L5z6X7c8V9bN', reply_to: 'msg_Z1x2C3v4B5n6M7a8S9dF', channel: 'api', content: 'Done: a table for 4 at 19:00 tomorrow.' },
  },
  'agent.status.changed': {
    description: 'An agent went online (active) or offline (paused, draft, deleted).',
    scope: 'bots.read',
    schema: schemas['agent.status.changed'],
    example: { agent_id: 'aep_M1n2B3v4C5x6Z7l8K9jH', type: 'endpoint', status: 'offline', previous_status: 'online' },
  },
  'agent.skill.installed': {
    description: 'Skills (tools, MCP servers, connections) were installed on an agent.',
    scope: 'bots.read',
    schema: schemas['agent.skill.installed'],
    example: { agent_id: 'bt_4f0QkT1pZ8mYb2cV6nXe', type: 'bot', skills: ['mcp_Q1w2E3r4T5y6U7i8O9pA'], tools: ['current_time', 'mcp_Q1w2E3r4T5y6U7i8O9pA'] },
  },
  'billing.invoice.created': {
    description: 'A monthly invoice was generated from the wallet ledger.',
    scope: 'wallet.read',
    schema: schemas['billing.invoice.created'],
    example: { invoice_id: 'inv_R5t6Y7u8I9o0P1a2S3dF', user_id: 'usr_R5t6Y7u8I9o0P1a2S3dF', period: '2026-02', total_cents: 1234.5, lines: [{ reason: 'agent endpoint run (support-triage)', count: 120, amount_cents: 1234.5 }] },
  },
  'agent.run.completed': {
    description: 'A run of a deployed agent (scheduled, caught up or manual) finished successfully.',
    scope: 'agents.read',
    schema: schemas['agent.run.completed'],
    example: { agent_id: 'agt_K3j4H5g6F7d8S9a0P1oI', run_id: 'arun_-0Lm9Qx2Tz1aB3cD4eF5', workflow_id: 'wf_Q1w2E3r4T5y6U7i8O9pA', execution_id: 'wfx_Z1x2C3v4B5n6M7a8S9dF', trigger: 'scheduled', manual: false, slot: '2026-03-09T08:30:00Z', duration_ms: 2140, tokens: 1320, cost_cents: 0.042 },
  },
  'agent.run.failed': {
    description: 'A run of a deployed agent failed or was cancelled.',
    scope: 'agents.read',
    schema: schemas['agent.run.failed'],
    example: { agent_id: 'agt_K3j4H5g6F7d8S9a0P1oI', run_id: 'arun_-0Lm9Qx2Tz1aB3cD4eF6', workflow_id: 'wf_Q1w2E3r4T5y6U7i8O9pA', execution_id: null, trigger: 'manual', manual: true, slot: '2026-03-09T08:31:12Z', duration_ms: 412, error: 'The model provider answered 429 Too Many Requests', code: null },
  },
  'agent.schedule.missed': {
    description: "Slots of an agent's schedule passed unrun beyond its catch-up policy (downtime, a pause, a stalled scheduler).",
    scope: 'agents.read',
    schema: schemas['agent.schedule.missed'],
    example: { agent_id: 'agt_K3j4H5g6F7d8S9a0P1oI', missed: 3, last_missed_slot: '2026-03-09T08:30:00Z', missed_count: 7, catchup_policy: 'latest' },
  },
  'agent.schedule.failing': {
    description: 'An agent failed several times in a row (pause_after_failures, or 3); it paused itself when pause_after_failures is set.',
    scope: 'agents.read',
    schema: schemas['agent.schedule.failing'],
    example: { agent_id: 'agt_K3j4H5g6F7d8S9a0P1oI', consecutive_failures: 5, paused: true, last_error: 'Step "fetch" failed: 503 Service Unavailable' },
  },
  'webhook.test': {
    description: 'A test event sent on request (POST .../test) to one webhook, whatever its event filter.',
    scope: null,
    schema: schemas['webhook.test'],
    example: { webhook_id: 'wh_T1e2S3t4W5e6B7h8O9oK', message: 'This is a test event from Agentbase.' },
  },
} satisfies Record<string, EventSpec>

export type EventType = keyof typeof EVENT_CATALOG

/** Why `data` does not match its type's schema, or null (also null for types without a schema or unknown types). */
export function eventProblem(type: string, data: unknown): string | null {
  const schema = (EVENT_CATALOG as Record<string, EventSpec>)[type]?.schema
  if (!schema) return null
  const v = compileSchema(schema as Record<string, unknown>, 'output')
  return !v || v(data) ? null : (v.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('; ')
}
/** The payload `publish(type, ...)` accepts: the entry's schema, or any object for an entry without one. */
export type EventData<T extends EventType> = (typeof EVENT_CATALOG)[T] extends { schema: infer S extends TSchema } ? Static<S> : Record<string, unknown>
export const EVENT_TYPES = Object.keys(EVENT_CATALOG) as EventType[]
export const isEventType = (s: string): s is EventType => s in EVENT_CATALOG

/** 400 message for unknown event names, listing the valid ones; null when all are known ("*" = all). */
export function unknownEvents(names: string[]): string | null {
  const bad = names.filter((n) => n !== '*' && !isEventType(n))
  return bad.length ? `Unknown event${bad.length > 1 ? 's' : ''} ${bad.map((s) => `"${s}"`).join(', ')}; valid events: *, ${EVENT_TYPES.join(', ')}` : null
}

/**
 * Whether a bot account's webhook receives an event: the ones the account caused, and the owner's
 * other events its scopes let it read (a bot key acts for its owner within its scopes).
 */
export function botAccountSees(e: { type: string; bot_account_id: string | null }, accountId: string, scopes: string[]): boolean {
  if (e.bot_account_id) return e.bot_account_id === accountId
  const needs = (EVENT_CATALOG as Record<string, EventSpec>)[e.type]?.scope
  return !!needs && scopes.includes(needs)
}

/** Whether a webhook subscribed to `events` receives `type` (webhook.test is only sent on request). */
export const subscribes = (events: string[], type: string) => events.includes(type) || (events.includes('*') && type !== 'webhook.test')
