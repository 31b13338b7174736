/**
 * The documented catalog of events that domains publish (`k.events.publish(type, data, who)`) and that
 * webhooks subscribe to. Each delivery's body is `{ type, timestamp, data }`; `data` is what the
 * publisher passed. Examples show the shape receivers can rely on; publishers may add fields.
 * A new event type (workflows, scheduled agents) is one entry here plus a publish call in its domain.
 */
export interface EventSpec {
  description: string
  /** The scope a bot account needs for its webhooks to receive this event when it did not cause it. */
  scope: string | null
  example: Record<string, unknown>
}

export const EVENT_CATALOG = {
  'bot.message.received': {
    description: 'A bot received a message from a platform user (Telegram, Discord, Slack, WhatsApp, web).',
    scope: 'conversations.read',
    example: { bot_id: 'bt_4f0QkT1pZ8mYb2cV6nXe', conversation_id: 'bconv_Q2w3E4r5T6y7U8i9O0pA', message_id: 'bmsg_Z1x2C3v4B5n6M7a8S9dF', platform: 'telegram', user: { id: '123456789', name: 'Ada' }, text: 'What are your opening hours?' },
  },
  'bot.message.sent': {
    description: 'A bot sent a reply to a platform user.',
    scope: 'conversations.read',
    example: { bot_id: 'bt_4f0QkT1pZ8mYb2cV6nXe', conversation_id: 'bconv_Q2w3E4r5T6y7U8i9O0pA', message_id: 'bmsg_G1h2J3k4L5z6X7c8V9bN', platform: 'telegram', text: 'We are open 9:00-17:00, Monday to Friday.', run_id: 'run_P0o9I8u7Y6t5R4e3W2qA' },
  },
  'bot.conversation.started': {
    description: 'A new conversation began between a bot and a platform user.',
    scope: 'conversations.read',
    example: { bot_id: 'bt_4f0QkT1pZ8mYb2cV6nXe', conversation_id: 'bconv_Q2w3E4r5T6y7U8i9O0pA', platform: 'telegram', user: { id: '123456789', name: 'Ada' } },
  },
  'bot.status.changed': {
    description: 'A bot was activated, paused, or went into an error state.',
    scope: 'bots.read',
    example: { bot_id: 'bt_4f0QkT1pZ8mYb2cV6nXe', status: 'active', previous_status: 'paused', reason: null },
  },
  'run.completed': {
    description: 'An agent run (endpoint call, bot reply, workflow step or scheduled agent) finished successfully.',
    scope: 'endpoints.read',
    example: { run_id: 'run_P0o9I8u7Y6t5R4e3W2qA', endpoint_id: 'aep_M1n2B3v4C5x6Z7l8K9jH', source: 'endpoint', model: 'gpt-4o-mini', usage: { input_tokens: 812, output_tokens: 164 }, cost_cents: 0.0221, duration_ms: 1840 },
  },
  'run.failed': {
    description: 'An agent run failed (provider error, timeout, budget exceeded, tool loop limit).',
    scope: 'endpoints.read',
    example: { run_id: 'run_A9s8D7f6G5h4J3k2L1zX', endpoint_id: 'aep_M1n2B3v4C5x6Z7l8K9jH', source: 'endpoint', error: 'The model provider answered 429 Too Many Requests', code: 'upstream_failed', duration_ms: 412 },
  },
  'endpoint.status.changed': {
    description: 'An agent endpoint was enabled or disabled.',
    scope: 'endpoints.read',
    example: { endpoint_id: 'aep_M1n2B3v4C5x6Z7l8K9jH', slug: 'support-triage', status: 'disabled', previous_status: 'active' },
  },
  'tool.call.failed': {
    description: 'A tool call made by an agent failed (MCP server error, HTTP error, timeout, refused URL).',
    scope: 'tools.read',
    example: { tool: 'http_request', run_id: 'run_P0o9I8u7Y6t5R4e3W2qA', server_id: null, error: 'Request to api.example.com timed out after 15000 ms', duration_ms: 15002 },
  },
  'wallet.balance.low': {
    description: 'The wallet balance fell below the low-balance threshold (1 dollar).',
    scope: 'wallet.read',
    example: { user_id: 'usr_R5t6Y7u8I9o0P1a2S3dF', balance_cents: 87.5, threshold_cents: 100 },
  },
  'workflow.execution.completed': {
    description: 'A workflow execution finished successfully (manual, webhook, event or scheduled).',
    scope: 'workflows.read',
    example: { execution_id: 'wfx_Lm3Nb4Vc5Xz6Aq7Sw8De', workflow_id: 'wf_Rt5Yu6Io7Pa8Sd9Fg0Hj', version: 3, source: 'webhook', output: { posted: true }, duration_ms: 1240 },
  },
  'workflow.execution.failed': {
    description: 'A workflow execution failed: a step failed after its retries (and did not continue on error).',
    scope: 'workflows.read',
    example: { execution_id: 'wfx_Lm3Nb4Vc5Xz6Aq7Sw8De', workflow_id: 'wf_Rt5Yu6Io7Pa8Sd9Fg0Hj', version: 3, source: 'manual', error: 'Tool "slack_send_message" failed: channel_not_found', step_id: 'notify' },
  },
  // The /v1 API's events (reference: v1-api.txt). An agent is a bot (bt_) or an agent endpoint (aep_).
  'agent.task.completed': {
    description: 'An agent finished a /v1 task (the run a message started): completed, failed or canceled.',
    scope: 'endpoints.read',
    example: { task_id: 'task_0Q2w3E4r5T6y7U8i9O0p', agent_id: 'aep_M1n2B3v4C5x6Z7l8K9jH', message_id: 'msg_Z1x2C3v4B5n6M7a8S9dF', state: 'completed', output: 'Booked: table for 4 at 19:00.', run_id: 'run_P0o9I8u7Y6t5R4e3W2qA', usage: { tokens_input: 812, tokens_output: 164, cost_cents: 0.0221 } },
  },
  'agent.message.received': {
    description: 'An agent received a message (a /v1 message, an OpenAI-compatible or MCP call, or a bot\'s platform message).',
    scope: 'conversations.read',
    example: { agent_id: 'bt_4f0QkT1pZ8mYb2cV6nXe', message_id: 'msg_Z1x2C3v4B5n6M7a8S9dF', channel: 'api', content: 'Book a table for 4 at 7pm tomorrow', metadata: { customer_id: 'cust_456' } },
  },
  'agent.message.sent': {
    description: 'An agent sent a message (its answer).',
    scope: 'conversations.read',
    example: { agent_id: 'bt_4f0QkT1pZ8mYb2cV6nXe', message_id: 'bmsg_G1h2J3k4L5z6X7c8V9bN', reply_to: 'msg_Z1x2C3v4B5n6M7a8S9dF', channel: 'api', content: 'Done: a table for 4 at 19:00 tomorrow.' },
  },
  'agent.status.changed': {
    description: 'An agent went online (active) or offline (paused, draft, deleted).',
    scope: 'bots.read',
    example: { agent_id: 'aep_M1n2B3v4C5x6Z7l8K9jH', type: 'endpoint', status: 'offline', previous_status: 'online' },
  },
  'agent.skill.installed': {
    description: 'Skills (tools, MCP servers, connections) were installed on an agent.',
    scope: 'bots.read',
    example: { agent_id: 'bt_4f0QkT1pZ8mYb2cV6nXe', type: 'bot', skills: ['mcp_Q1w2E3r4T5y6U7i8O9pA'], tools: ['current_time', 'mcp_Q1w2E3r4T5y6U7i8O9pA'] },
  },
  'billing.invoice.created': {
    description: 'A monthly invoice was generated from the wallet ledger.',
    scope: 'wallet.read',
    example: { invoice_id: 'inv_R5t6Y7u8I9o0P1a2S3dF', user_id: 'usr_R5t6Y7u8I9o0P1a2S3dF', period: '2026-02', total_cents: 1234.5, lines: [{ reason: 'agent endpoint run (support-triage)', count: 120, amount_cents: 1234.5 }] },
  },
  'agent.run.completed': {
    description: 'A run of a deployed agent (scheduled, caught up or manual) finished successfully.',
    scope: 'agents.read',
    example: { agent_id: 'agt_K3j4H5g6F7d8S9a0P1oI', run_id: 'arun_-0Lm9Qx2Tz1aB3cD4eF5', workflow_id: 'wf_Q1w2E3r4T5y6U7i8O9pA', execution_id: 'wfx_Z1x2C3v4B5n6M7a8S9dF', trigger: 'scheduled', manual: false, slot: '2026-03-09T08:30:00Z', duration_ms: 2140, tokens: 1320, cost_cents: 0.042 },
  },
  'agent.run.failed': {
    description: 'A run of a deployed agent failed or was cancelled.',
    scope: 'agents.read',
    example: { agent_id: 'agt_K3j4H5g6F7d8S9a0P1oI', run_id: 'arun_-0Lm9Qx2Tz1aB3cD4eF6', workflow_id: 'wf_Q1w2E3r4T5y6U7i8O9pA', execution_id: null, trigger: 'manual', manual: true, slot: '2026-03-09T08:31:12Z', duration_ms: 412, error: 'The model provider answered 429 Too Many Requests' },
  },
  'agent.schedule.missed': {
    description: "Slots of an agent's schedule passed unrun beyond its catch-up policy (downtime, a pause, a stalled scheduler).",
    scope: 'agents.read',
    example: { agent_id: 'agt_K3j4H5g6F7d8S9a0P1oI', missed: 3, last_missed_slot: '2026-03-09T08:30:00Z', missed_count: 7, catchup_policy: 'latest' },
  },
  'agent.schedule.failing': {
    description: 'An agent failed several times in a row (pause_after_failures, or 3); it paused itself when pause_after_failures is set.',
    scope: 'agents.read',
    example: { agent_id: 'agt_K3j4H5g6F7d8S9a0P1oI', consecutive_failures: 5, paused: true, last_error: 'Step "fetch" failed: 503 Service Unavailable' },
  },
  'webhook.test': {
    description: 'A test event sent on request (POST .../test) to one webhook, whatever its event filter.',
    scope: null,
    example: { webhook_id: 'wh_T1e2S3t4W5e6B7h8O9oK', message: 'This is a test event from Agentbase.' },
  },
} satisfies Record<string, EventSpec>

export type EventType = keyof typeof EVENT_CATALOG
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
