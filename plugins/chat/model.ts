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
