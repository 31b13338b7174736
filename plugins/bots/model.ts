import { t } from 'elysia'
import { ApiError } from '../../src/http/errors'

export const Platform = t.Union(['telegram', 'discord', 'whatsapp', 'slack', 'custom'].map((p) => t.Literal(p)), {
  description: 'Messaging platform',
})
export const Provider = t.Union(['anthropic', 'openai', 'gemini', 'groq', 'workers-ai', 'ollama', 'custom'].map((p) => t.Literal(p)), {
  description: 'LLM provider (custom: an OpenAI-compatible API at llm_config.base_url)',
})
export const BillingMode = t.Union([t.Literal('wallet'), t.Literal('byok'), t.Literal('plan_quota')], {
  description: 'wallet: platform key, costs debited from your wallet; byok: the bot\'s llm_api_key, no debit; plan_quota: platform key within your monthly token quota',
})

const optStr = (description: string) => t.Optional(t.String({ minLength: 1, maxLength: 4096, description }))

/** Documented per platform; other string fields are kept (e.g. slack bot_user_id). Stored encrypted, never returned. */
export const PlatformConfig = t.Object({
  bot_token: optStr('telegram: token from @BotFather (required); slack: xoxb- bot token (required); discord: optional, lets activation set the interactions URL'),
  secret_token: optStr('telegram: webhook secret, 1-256 of A-Za-z0-9_- (generated when absent)'),
  application_id: optStr('discord: application id (required)'),
  public_key: optStr('discord: application public key, 64 hex characters (required)'),
  access_token: optStr('whatsapp: access token (required)'),
  phone_number_id: optStr('whatsapp: phone number id (required)'),
  app_secret: optStr('whatsapp: app secret for X-Hub-Signature-256 (required)'),
  verify_token: optStr('whatsapp: verify token for the GET handshake (required)'),
  signing_secret: optStr('slack: signing secret (required)'),
}, {
  additionalProperties: true,
  description: 'Platform credentials. telegram: bot_token (+ secret_token); discord: application_id, public_key (+ bot_token); whatsapp: access_token, phone_number_id, app_secret, verify_token; slack: bot_token, signing_secret; custom: none.',
})

export const LlmConfig = t.Object({
  temperature: t.Optional(t.Number({ minimum: 0, maximum: 2 })),
  base_url: t.Optional(t.String({ minLength: 1, maxLength: 2000, description: 'Base URL for the custom provider (OpenAI-compatible, e.g. https://host/v1)' })),
}, { additionalProperties: false, description: 'LLM settings, e.g. { "temperature": 0.7 }' })

const limits = {
  tools: t.Optional(t.Nullable(t.Array(t.String({ minLength: 1, maxLength: 200 }), {
    maxItems: 200, description: 'Tool allow-list (skills): tool names, mcp_ server ids, con_ connection ids; null or absent = every workspace tool',
  }))),
  llm_provider: t.Optional(Provider),
  llm_model: t.Optional(t.String({ minLength: 1, maxLength: 200, description: 'Model id (default claude-sonnet-4-6)' })),
  llm_api_key: t.Optional(t.Nullable(t.String({ minLength: 1, maxLength: 1000, description: 'BYOK key, stored encrypted, never returned' }))),
  llm_config: t.Optional(LlmConfig),
  billing_mode: t.Optional(BillingMode),
  max_loop_iterations: t.Optional(t.Integer({ minimum: 1, maximum: 50, description: 'Max tool-call rounds (default 10)' })),
  max_tokens_per_turn: t.Optional(t.Integer({ minimum: 1, maximum: 64000, description: 'Max output tokens per LLM call (default 8192)' })),
  timeout_ms: t.Optional(t.Integer({ minimum: 1000, maximum: 60000, description: 'Processing timeout (default 30000, max 60000)' })),
  conversation_max_messages: t.Optional(t.Integer({ minimum: 1, maximum: 200, description: 'Messages of history sent to the model (default 20)' })),
  conversation_ttl_hours: t.Optional(t.Integer({ minimum: 1, maximum: 8760, description: 'Silence after which a new conversation starts (default 24)' })),
  enable_rag: t.Optional(t.Boolean({ description: 'Reserved for RAG integration (default false)' })),
  welcome_message: t.Optional(t.Nullable(t.String({ minLength: 1, maxLength: 4000, description: 'Sent on a user\'s first interaction' }))),
  fallback_message: t.Optional(t.Nullable(t.String({ minLength: 1, maxLength: 4000, description: 'Sent when the run fails, times out or the bot may not spend' }))),
  spending_cap_cents: t.Optional(t.Nullable(t.Number({ minimum: 0, maximum: 1e9, description: 'Lifetime spending cap in cents; null = none' }))),
}

export const CreateBot = t.Object({
  name: t.String({ minLength: 1, maxLength: 100 }),
  platform: Platform,
  workspace_id: t.String({ minLength: 1, maxLength: 100, description: 'Workspace whose MCP servers the bot uses (must be yours)' }),
  system_prompt: t.String({ minLength: 1, maxLength: 50000 }),
  description: t.Optional(t.Nullable(t.String({ maxLength: 1000 }))),
  platform_config: t.Optional(t.Nullable(PlatformConfig)),
  ...limits,
})
export type CreateBotInput = typeof CreateBot.static

export const UpdateBot = t.Object({
  name: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
  description: t.Optional(t.Nullable(t.String({ maxLength: 1000 }))),
  system_prompt: t.Optional(t.String({ minLength: 1, maxLength: 50000 })),
  platform_config: t.Optional(t.Nullable(PlatformConfig)),
  ...limits,
  workflow_json: t.Optional(t.Nullable(t.Unknown({ description: 'Workflow graph { nodes: [{ id, type, data? }], edges: [{ source, target }] }; validated, not run yet' }))),
  workflow_enabled: t.Optional(t.Boolean({ description: 'Answer through workflow_json ({ steps } in the /api/workflows step format) instead of the model' })),
})
export type UpdateBotInput = typeof UpdateBot.static

export const TemplateInfo = t.Object({ id: t.String(), name: t.String(), category: t.String(), is_system: t.Boolean() })

export const Bot = t.Object({
  id: t.String(), name: t.String(), slug: t.String(), description: t.Nullable(t.String()), platform: t.String(),
  status: t.Union([t.Literal('draft'), t.Literal('active'), t.Literal('paused')]),
  workspace_id: t.String(), template_id: t.Nullable(t.String()), template: t.Optional(t.Nullable(TemplateInfo)),
  system_prompt: t.String(), llm_provider: t.String(), llm_model: t.String(), llm_config: t.Record(t.String(), t.Unknown()),
  billing_mode: t.String(), max_loop_iterations: t.Integer(), max_tokens_per_turn: t.Integer(), timeout_ms: t.Integer(),
  conversation_max_messages: t.Integer(), conversation_ttl_hours: t.Integer(), enable_rag: t.Boolean(),
  welcome_message: t.Nullable(t.String()), fallback_message: t.Nullable(t.String()),
  spending_cap_cents: t.Nullable(t.Number()), total_cost_cents: t.Number(),
  workflow_json: t.Unknown(), workflow_enabled: t.Boolean(),
  has_platform_config: t.Boolean(), has_llm_api_key: t.Boolean(),
  webhook_url: t.Optional(t.String()),
  conversation_count: t.Integer(), last_active_at: t.Nullable(t.String()), created_at: t.String(), updated_at: t.String(),
  tools: t.Nullable(t.Array(t.String())),
})
export type BotView = typeof Bot.static
export const BotEnvelope = t.Object({ bot: Bot })

export const Activation = t.Object({
  status: t.String(), webhook_url: t.String(), warnings: t.Array(t.String()), manual_setup_required: t.Boolean(),
})

export const TestBody = t.Object({ message: t.String({ minLength: 1, maxLength: 16000 }) })
export const TestResult = t.Object({
  response: t.String(),
  tool_calls: t.Array(t.Object({ tool: t.String(), success: t.Boolean(), latency_ms: t.Number() })),
  tokens: t.Object({ input: t.Integer(), output: t.Integer() }),
  token_breakdown: t.Object({ systemPrompt: t.Integer(), total: t.Integer() }),
  cost_cents: t.Number(), latency_ms: t.Number(), loop_iterations: t.Integer(), conversation_id: t.String(),
})

export const Conversation = t.Object({
  id: t.String(), bot_id: t.String(), platform_chat_id: t.String(), platform_user_id: t.String(), platform_user_name: t.Nullable(t.String()),
  source: t.String(), status: t.String(), message_count: t.Integer(), tokens_input: t.Integer(), tokens_output: t.Integer(),
  total_cost_cents: t.Number(), started_at: t.String(), last_message_at: t.String(),
})
export const Message = t.Object({
  id: t.String(), role: t.String(), kind: t.String(), content: t.String(), tool_calls: t.Array(t.Unknown()),
  tokens_input: t.Integer(), tokens_output: t.Integer(), cost_cents: t.Number(), latency_ms: t.Nullable(t.Number()),
  loop_iterations: t.Nullable(t.Integer()), error: t.Nullable(t.String()), stop_reason: t.Nullable(t.String()), created_at: t.String(),
})
export const ConversationList = t.Object({ conversations: t.Array(Conversation), total: t.Integer(), limit: t.Integer(), offset: t.Integer() })
export const ConversationDetail = t.Object({ conversation: Conversation, messages: t.Array(Message), has_more: t.Boolean() })
export const ListQuery = t.Object({
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 50 })),
  offset: t.Optional(t.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
})
export const MessagesQuery = t.Object({ limit: t.Optional(t.Integer({ minimum: 1, maximum: 500, default: 100 })) })

const FIXED: Record<string, string> = {
  platform: 'platform cannot be changed: create a new bot for another platform',
  workspace_id: 'workspace_id cannot be changed: create a new bot in the other workspace',
  status: 'status changes through POST /api/bots/:id/activate and /pause',
}

/** llm_config keys are few; a typo (temprature) is refused rather than dropped silently. */
export function rejectUnknownLlmConfig(body: unknown) {
  const cfg = (body as { llm_config?: unknown } | null)?.llm_config
  if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) return
  for (const key of Object.keys(cfg)) {
    if (!(key in LlmConfig.properties)) throw new ApiError(400, `llm_config.${key} is not a known setting (use temperature, base_url)`, 'validation_failed', { [`llm_config.${key}`]: 'unknown setting' })
  }
}

/** PATCH: refuses fields that are not updatable (Elysia would drop them silently), naming each. */
export function rejectNotUpdatable(body: unknown) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return
  rejectUnknownLlmConfig(body)
  const allowed = UpdateBot.properties as Record<string, unknown>
  for (const key of Object.keys(body)) {
    if (key in allowed) continue
    const msg = FIXED[key] ?? `${key} is not an updatable field`
    throw new ApiError(400, msg, 'validation_failed', { [key]: FIXED[key] ? 'cannot be changed' : 'is not updatable' })
  }
}

/**
 * Elysia drops unknown properties while validating, so the strict checks above look at the body as sent:
 * `keepRaw` (transform, before validation) remembers it; `rawCheck` (beforeHandle, after auth) checks it.
 */
const rawBodies = new WeakMap<Request, unknown>()
export const keepRaw = ({ request, body }: { request: Request; body: unknown }) => { rawBodies.set(request, body) }
export const rawCheck = (check: (body: unknown) => void) => ({ request }: { request: Request }) => { check(rawBodies.get(request)) }
