import { t } from 'elysia'

/** Validation bounds of the reference (agent-endpoints-api.txt), one place. */
export const LIMITS = {
  name: 100, workspaceId: 100, systemPrompt: 10000, description: 500, slug: 60, model: 100,
  maxTokens: [100, 32768], temperature: [0, 2], maxToolCalls: [1, 50], timeoutMs: [1000, 120000], price: [0, 10000],
  rpm: [1, 1_000_000], runTimeoutCap: 60000,
} as const

export const AGENT_TYPES = ['extractor', 'actor', 'pipeline'] as const
export const LLM_PROVIDERS = ['openai', 'anthropic', 'gemini', 'groq', 'workers-ai', 'custom'] as const
export const OUTPUT_FORMATS = ['text', 'json', 'markdown'] as const
export const AUTH_MODES = ['api_key', 'public'] as const
export const RUN_STATUSES = ['queued', 'running', 'success', 'error', 'test'] as const

/** String enums as unions of literals (readable validation: "must be one of ..."). */
const L = t.Literal
const AgentType = t.Union([L('extractor'), L('actor'), L('pipeline')])
const LlmProvider = t.Union([L('openai'), L('anthropic'), L('gemini'), L('groq'), L('workers-ai'), L('custom')])
const OutputFormat = t.Union([L('text'), L('json'), L('markdown')])
const AuthMode = t.Union([L('api_key'), L('public')])
const RunStatusEnum = t.Union([L('queued'), L('running'), L('success'), L('error'), L('cancelled'), L('test')])

const ToolsField = t.Nullable(t.Array(t.String({ minLength: 1, maxLength: 200 }), {
  maxItems: 200, description: 'Tool allow-list (skills): tool names, mcp_ server ids, con_ connection ids; null or absent = every workspace tool',
}))

const fields = {
  name: t.String({ minLength: 1, maxLength: LIMITS.name }),
  description: t.Nullable(t.String({ maxLength: LIMITS.description })),
  slug: t.String({ minLength: 1, maxLength: LIMITS.slug, pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' }),
  system_prompt: t.String({ minLength: 1, maxLength: LIMITS.systemPrompt }),
  agent_type: AgentType,
  llm_provider: LlmProvider,
  llm_model: t.String({ minLength: 1, maxLength: LIMITS.model }),
  llm_api_key: t.Nullable(t.String({ minLength: 1, maxLength: 500 })),
  llm_base_url: t.Nullable(t.String({ minLength: 1, maxLength: 500, pattern: '^https?://' })),
  max_tokens: t.Integer({ minimum: LIMITS.maxTokens[0], maximum: LIMITS.maxTokens[1] }),
  temperature: t.Number({ minimum: LIMITS.temperature[0], maximum: LIMITS.temperature[1] }),
  // t.Any + a check in the service: Elysia would coerce a string into an object here.
  input_schema: t.Nullable(t.Any({ description: 'JSON Schema (object) for the expected input; informational' })),
  output_schema: t.Nullable(t.Any({ description: 'JSON Schema (object) the JSON output must match (output_format json)' })),
  output_format: OutputFormat,
  max_tool_calls: t.Integer({ minimum: LIMITS.maxToolCalls[0], maximum: LIMITS.maxToolCalls[1] }),
  timeout_ms: t.Integer({ minimum: LIMITS.timeoutMs[0], maximum: LIMITS.timeoutMs[1] }),
  enable_streaming: t.Boolean(),
  async_mode: t.Boolean(),
  auth_mode: AuthMode,
  price_per_run_cents: t.Integer({ minimum: LIMITS.price[0], maximum: LIMITS.price[1] }),
  rate_limit_rpm: t.Integer({ minimum: LIMITS.rpm[0], maximum: LIMITS.rpm[1] }),
  tools: ToolsField,
}

const optional = <T extends Record<string, any>>(o: T) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, t.Optional(v)])) as { [K in keyof T]: ReturnType<typeof t.Optional<T[K]>> }

const { name, system_prompt, ...rest } = fields

/** POST body. `name` and `system_prompt` are required unless `template_id` supplies them (checked in the service). */
export const CreateEndpoint = t.Object({
  workspace_id: t.String({ minLength: 1, maxLength: LIMITS.workspaceId }),
  template_id: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
  ...optional({ name, system_prompt }),
  ...optional(rest),
})
export type CreateEndpointInput = typeof CreateEndpoint.static

/** PATCH body: every create field optional; workspace_id cannot change (refused with 400). */
export const UpdateEndpoint = t.Object({
  ...optional(fields),
  workspace_id: t.Optional(t.Any({ description: 'Immutable; sending it is refused' })),
})
export type UpdateEndpointInput = typeof UpdateEndpoint.static

const Flag = t.Union([t.Literal(0), t.Literal(1)])

export const Endpoint = t.Object({
  id: t.String(), owner_id: t.String(), workspace_id: t.String(), name: t.String(), slug: t.String(), description: t.Nullable(t.String()),
  agent_type: t.String(), system_prompt: t.String(), llm_provider: t.String(), llm_model: t.String(), has_llm_api_key: t.Boolean(),
  llm_base_url: t.Nullable(t.String()), max_tokens: t.Integer(), temperature: t.Number(),
  input_schema: t.Nullable(t.Record(t.String(), t.Any())), output_schema: t.Nullable(t.Record(t.String(), t.Any())),
  output_format: t.String(), max_tool_calls: t.Integer(), timeout_ms: t.Integer(), enable_streaming: Flag, async_mode: Flag,
  auth_mode: t.String(), price_per_run_cents: t.Integer(), rate_limit_rpm: t.Integer(), template_id: t.Nullable(t.String()),
  status: t.String(), key_prefix: t.String(), run_url: t.String(), created_at: t.String(), updated_at: t.String(),
  tools: t.Nullable(t.Array(t.String())),
})
export type EndpointView = typeof Endpoint.static

export const EndpointEnvelope = t.Object({ endpoint: Endpoint })
const CallbackSecret = t.String({ description: 'The `whsec_` secret that signs callback_url deliveries (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature); shown only here' })
export const Created = t.Object({ endpoint: Endpoint, api_key: t.String(), run_url: t.String(), callback_secret: CallbackSecret })
export const Regenerated = t.Object({ api_key: t.String(), key_prefix: t.String(), callback_secret: CallbackSecret })

export const Run = t.Object({
  id: t.String(), endpoint_id: t.String(), input: t.String(), output: t.Nullable(t.String()), tool_calls: t.String(),
  tokens_input: t.Integer(), tokens_output: t.Integer(), cost_cents: t.Number(), latency_ms: t.Integer(),
  status: RunStatusEnum, caller_ip: t.Nullable(t.String()), error: t.Nullable(t.String()), created_at: t.String(),
  finished_at: t.Nullable(t.String()),
})
export type RunView = typeof Run.static

export const RunsQuery = t.Object({ limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 50 })) })

export const TestBody = t.Object({ input: t.String({ minLength: 1, maxLength: 2 * 1024 * 1024 }) })

export const Usage = t.Object({
  tokens_input: t.Integer(), tokens_output: t.Integer(), cost_cents: t.Number(), latency_ms: t.Integer(), iterations: t.Integer(),
})
const ToolCallSummary = t.Object({ tool: t.String(), success: t.Boolean(), latency_ms: t.Number() })

export const TestResult = t.Object({
  run_id: t.String(), output: t.Any(), raw_output: t.Optional(t.String()), tool_calls: t.Array(ToolCallSummary), usage: Usage,
})

/** The sync answer of POST /api/run/:slug. */
export const SyncResult = t.Object({
  run_id: t.String(), output: t.Any(), raw_output: t.Optional(t.String()), tool_calls: t.Array(ToolCallSummary), usage: Usage,
})
/** POST /api/run/:slug's optional fields besides the input. */
export const ON_DISCONNECT = ['cancel', 'continue'] as const

export const Queued = t.Object({ run_id: t.String(), status: t.Literal('queued'), status_url: t.String(), events_url: t.String() })

/** GET /api/runs/:id: status, and when finished, the result in the sync shape. */
export const RunStatus = t.Object({
  run_id: t.String(), endpoint_id: t.Optional(t.String({ description: 'Runs of agent endpoints' })),
  source: t.Optional(t.String({ description: 'Runs of other surfaces (bot, chat, workflow...): the surface and its object id' })),
  source_id: t.Optional(t.Nullable(t.String())), status: RunStatusEnum, created_at: t.String(), started_at: t.Nullable(t.String()),
  finished_at: t.Nullable(t.String()), error: t.Optional(t.String()), code: t.Optional(t.String()),
  output: t.Optional(t.Any()), raw_output: t.Optional(t.String()), tool_calls: t.Optional(t.Array(ToolCallSummary)), usage: t.Optional(Usage),
  callback: t.Optional(t.Object({ url: t.String(), status: t.String(), attempts: t.Integer(), last_status: t.Nullable(t.Integer()) })),
})

export const Template = t.Object({
  id: t.String(), name: t.String(), description: t.String(), type: t.String(), category: t.String(), system_prompt: t.String(),
  suggested_mcps: t.String(), input_schema: t.Nullable(t.String()), output_schema: t.Nullable(t.String()), output_format: t.String(),
  popularity: t.Integer(), created_at: t.String(),
})
export type TemplateView = typeof Template.static
export const TemplatesQuery = t.Object({ type: t.Optional(t.Union([L('agent'), L('webhook')])) })
