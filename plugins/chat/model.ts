import { t } from 'elysia'

/** Elysia schemas of /api/chat (and so of the OpenAPI document) and their types. */

export const LIMITS = {
  title: 200,
  content: 100_000,
  systemPrompt: 20_000,
  pageMax: 200,
  pageDefault: 50,
  /** Messages embedded in GET /conversations/:id. */
  snapshot: 50,
}

const providerField = t.String({ minLength: 1, maxLength: 100, description: "openai, anthropic, gemini, groq, ollama, workers-ai; or a model name such as gpt-4o or claude-3-5-sonnet; or provider:model" })

export const CreateConversation = t.Object({
  title: t.Optional(t.Nullable(t.String({ maxLength: LIMITS.title, description: 'Omit and the first message generates one' }))),
  workspace_id: t.Optional(t.Nullable(t.String({ maxLength: 100, description: "Where the tools come from; default the caller's first workspace" }))),
  provider: t.Optional(t.Nullable(providerField)),
  model: t.Optional(t.Nullable(t.String({ minLength: 1, maxLength: 200 }))),
  system_prompt: t.Optional(t.Nullable(t.String({ maxLength: LIMITS.systemPrompt }))),
}, { additionalProperties: false })
export type CreateConversationInput = typeof CreateConversation.static

export const UpdateConversation = t.Object({
  title: t.String({ minLength: 1, maxLength: LIMITS.title, description: 'The new title' }),
}, { additionalProperties: false })

export const SendMessage = t.Object({
  content: t.String({ minLength: 1, maxLength: LIMITS.content, description: 'The message (markdown)' }),
  provider: t.Optional(t.Nullable(providerField)),
  stream: t.Optional(t.Boolean({ description: 'Stream the turn as SSE (same as Accept: text/event-stream)' })),
  multitask: t.Optional(t.Union([t.Literal('reject'), t.Literal('enqueue')], { description: 'While a turn runs: reject (409, default) or enqueue behind it' })),
}, { additionalProperties: false })
export type SendMessageInput = typeof SendMessage.static

export const ContentBody = t.Object({
  content: t.String({ minLength: 1, maxLength: LIMITS.content }),
  provider: t.Optional(t.Nullable(providerField)),
}, { additionalProperties: false })

export const ValidateToolCall = t.Object({
  name: t.String({ minLength: 1, maxLength: 200 }),
  arguments: t.Optional(t.Any({ description: 'The arguments object to check against the tool schema' })),
}, { additionalProperties: false })

export const Settings = t.Object({
  default_provider: t.Nullable(t.String({ minLength: 1, maxLength: 50 })),
  default_model: t.Optional(t.Nullable(t.String({ minLength: 1, maxLength: 200 }))),
}, { additionalProperties: false })

export const PageQuery = t.Object({
  limit: t.Optional(t.Numeric({ minimum: 1, maximum: LIMITS.pageMax })),
  offset: t.Optional(t.Numeric({ minimum: 0 })),
  cursor: t.Optional(t.String({ maxLength: 200, description: 'next_cursor of the previous page' })),
})

export const ToolsQuery = t.Object({
  include_all: t.Optional(t.BooleanString()),
  all: t.Optional(t.BooleanString()),
  workspace_id: t.Optional(t.String({ maxLength: 100 })),
})

export const ConvParams = t.Object({ id: t.String({ minLength: 1, maxLength: 100 }) })
export const MessageParams = t.Object({ id: t.String({ minLength: 1, maxLength: 100 }), message_id: t.String({ minLength: 1, maxLength: 100 }) })
export const FileParams = t.Object({
  id: t.String({ minLength: 1, maxLength: 100 }), message_id: t.String({ minLength: 1, maxLength: 100 }), filename: t.String({ minLength: 1, maxLength: 255 }),
})

export const ToolCallView = t.Object({ id: t.String(), name: t.String(), arguments: t.Any() })
export const ToolCalled = t.Object({ tool: t.String(), success: t.Boolean(), latency_ms: t.Number() })
export const FileInfo = t.Object({
  filename: t.String(), size: t.Number(), content_type: t.String(), sha256: t.String(), created_at: t.String(), url: t.String(),
})

export const Message = t.Object({
  id: t.String(),
  conversation_id: t.String(),
  role: t.Union([t.Literal('user'), t.Literal('assistant'), t.Literal('tool'), t.Literal('system')]),
  content: t.String(),
  status: t.String({ description: 'completed | error | cancelled' }),
  tokens_used: t.Number(),
  cost_cents: t.Number(),
  tools_called: t.Array(ToolCalled),
  tool_calls: t.Nullable(t.Array(ToolCallView)),
  tool_call_id: t.Nullable(t.String()),
  tool_name: t.Nullable(t.String()),
  is_error: t.Boolean({ description: 'tool: the result is an error the model saw' }),
  run_id: t.Nullable(t.String()),
  error_message: t.Nullable(t.String()),
  files: t.Array(FileInfo),
  created_at: t.String(),
})
export type MessageView = typeof Message.static

export const Conversation = t.Object({
  id: t.String(),
  title: t.Nullable(t.String()),
  workspace_id: t.Nullable(t.String()),
  provider: t.Nullable(t.String()),
  model: t.Nullable(t.String()),
  message_count: t.Number(),
  created_at: t.String(),
  updated_at: t.String(),
})
export type ConversationView = typeof Conversation.static

export const ConversationDetail = t.Object({
  conversation: t.Intersect([Conversation, t.Object({ system_prompt: t.Nullable(t.String()) })]),
  messages: t.Array(Message),
  has_more: t.Boolean({ description: 'Older messages exist: page them with GET .../messages' }),
})

export const ConversationList = t.Object({
  conversations: t.Array(Conversation), total: t.Number(), limit: t.Number(), offset: t.Number(), next_cursor: t.Nullable(t.String()),
})

export const MessageList = t.Object({
  messages: t.Array(Message), total: t.Number(), limit: t.Number(), offset: t.Number(), next_cursor: t.Nullable(t.String()),
})

// Response schemas of the orchestrator, provider and diagnostic routes (the OpenAPI document shows them).
const Rec = t.Record(t.String(), t.Unknown())
export const ExplainTools = t.Object({
  k: t.Number(), total_tools: t.Number(), offered: t.Array(t.String()),
  signals: t.Array(t.String({ description: 'bm25, and embeddings:<model> when AGENTBASE_CHAT_EMBEDDINGS is set' })),
  intent: t.Object({ intent: t.String(), needs_tools: t.Boolean(), confidence: t.Number() }),
  tools: t.Array(t.Object({
    name: t.String(), score: t.Number(), matched_terms: t.Array(t.String()), offered: t.Boolean(), reason: t.Nullable(t.String()), source: t.String(),
    bm25: t.Optional(t.Number({ description: 'with embeddings: the BM25 part (score = bm25 / best bm25 + semantic)' })), semantic: t.Optional(t.Number({ description: 'with embeddings: cosine similarity' })),
  })),
})
export const IntentView = t.Object({
  intent: t.String({ description: 'action | data_query | conversation' }), needs_tools: t.Boolean(), confidence: t.Number(), reasoning: t.String(),
  method: t.String({ description: 'llm | heuristic' }), fallback_reason: t.Optional(t.String()), provider: t.Optional(t.String()), model: t.Optional(t.String()),
})
export const ValidateResult = t.Object({ valid: t.Boolean(), tool: t.Nullable(Rec), errors: t.Array(t.Object({ path: t.String(), message: t.String() })) })
export const TestDirectResult = t.Object({
  content: t.String(), provider: t.String(), model: t.String(), tokens_used: t.Number(), tokens_input: t.Number(), tokens_output: t.Number(),
  cost_cents: t.Number(), latency_ms: t.Number(), run_id: t.String(), saved: t.Boolean(),
})
export const ToolList = t.Object({ workspace_id: t.Nullable(t.String()), count: t.Number(), tools: t.Array(Rec) })
const DefaultChoice = t.Object({ provider: t.String(), model: t.String(), source: t.String({ description: 'user | server' }) })
export const ProviderList = t.Object({
  providers: t.Array(t.Object({
    id: t.String(), name: t.String(), configured: t.Boolean(), byok_only: t.Boolean(), key_env: t.Nullable(t.String()), base_url: t.String(),
    default_model: t.String(), models: t.Array(t.String()), reachable: t.Nullable(t.Boolean()),
  })),
  default: DefaultChoice,
})
export const SettingsView = t.Object({ default: DefaultChoice })
export const SettingsSaved = t.Object({ default_provider: t.Nullable(t.String()), default_model: t.Nullable(t.String()), effective: DefaultChoice })
const OllamaModel = t.Object({ name: t.String(), size: t.Nullable(t.Number()), modified_at: t.Nullable(t.String()), family: t.Nullable(t.String()), parameter_size: t.Nullable(t.String()) })
export const OllamaStatus = t.Object({
  available: t.Boolean(), url: t.String(), configured: t.Boolean(), version: t.Nullable(t.String()), models: t.Array(OllamaModel), error: t.Nullable(t.String()), fix: t.Nullable(t.String()),
})
export const OllamaDiagnostic = t.Object({
  ok: t.Boolean(), url: t.String(), checks: t.Array(t.Object({ name: t.String(), ok: t.Boolean(), detail: t.String(), latency_ms: t.Optional(t.Number()) })),
  version: t.Nullable(t.String()), models: t.Array(OllamaModel), error: t.Nullable(t.String()), fix: t.Nullable(t.String()),
})
export const FileList = t.Object({ message_id: t.String(), files: t.Array(FileInfo) })
export const Download = t.String({ description: 'The file bytes (Content-Disposition: attachment; X-Content-Type-Options: nosniff)' })
export const TurnAnswer = t.Union([Message, t.String({ description: 'with Accept: text/event-stream or "stream": true: the SSE stream (DESIGN §6), ending in run.completed { message } or run.failed' })])
export const TokenTest = t.Object({ api_url: t.String(), count: t.Number(), all_valid: t.Boolean(), results: t.Array(Rec), message: t.Optional(t.String()) })
export const DebugSettings = t.Object({ api_url: t.String(), api_url_source: t.String(), count: t.Number(), connections: t.Array(Rec) })
