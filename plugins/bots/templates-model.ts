import { t } from 'elysia'

export const Category = t.String({ minLength: 1, maxLength: 50, pattern: '^[a-z0-9][a-z0-9_-]*$', description: 'Category (the list filter "type"), e.g. support, faq, sales, booking, internal' })

export const ConfigField = t.Object({
  key: t.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
  label: t.Optional(t.String({ maxLength: 200 })),
  description: t.Optional(t.String({ maxLength: 1000 })),
  required: t.Optional(t.Boolean()),
  default: t.Optional(t.String({ maxLength: 10000, description: 'Used when the setup wizard gets no value for this key' })),
})

export const SuggestedServer = t.Object({
  name: t.String({ minLength: 1, maxLength: 100 }),
  url: t.String({ minLength: 1, maxLength: 2000, pattern: '^(https?://\\S+|\\{\\{\\s*[A-Za-z_][A-Za-z0-9_]*\\s*\\}\\}\\S*)$', description: 'MCP server URL (Streamable HTTP); may use {{placeholders}}; skipped when it fills in empty' }),
  transport: t.Optional(t.Literal('http')),
  description: t.Optional(t.String({ maxLength: 1000 })),
})

export const CreateTemplate = t.Object({
  name: t.String({ minLength: 1, maxLength: 100 }),
  description: t.String({ minLength: 1, maxLength: 1000 }),
  category: Category,
  system_prompt: t.String({ minLength: 1, maxLength: 50000, description: 'May use {{placeholders}} filled by the setup wizard\'s config_values' }),
  welcome_message: t.Optional(t.Nullable(t.String({ minLength: 1, maxLength: 4000 }))),
  fallback_message: t.Optional(t.Nullable(t.String({ minLength: 1, maxLength: 4000 }))),
  config_fields: t.Optional(t.Array(ConfigField, { maxItems: 50 })),
  suggested_mcp_servers: t.Optional(t.Array(SuggestedServer, { maxItems: 10 })),
})
export type CreateTemplateInput = typeof CreateTemplate.static
export const UpdateTemplate = t.Partial(CreateTemplate)
export type UpdateTemplateInput = typeof UpdateTemplate.static

export const Template = t.Object({
  id: t.String(), name: t.String(), description: t.String(), category: t.String(), system_prompt: t.String(),
  welcome_message: t.Nullable(t.String()), fallback_message: t.Nullable(t.String()),
  placeholders: t.Array(t.String()), config_fields: t.Array(ConfigField), suggested_mcp_servers: t.Array(SuggestedServer),
  is_system: t.Boolean(), created_at: t.String(), updated_at: t.String(),
})
export type TemplateView = typeof Template.static

export const TemplateQuery = t.Object({
  type: t.Optional(t.String({ minLength: 1, maxLength: 50, description: 'Filter by category' })),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 50 })),
})

export const SetupBody = t.Object({
  template_id: t.String({ minLength: 1, maxLength: 100, description: 'Template id, e.g. tpl_support' }),
  bot_name: t.Optional(t.String({ minLength: 1, maxLength: 100, description: 'Defaults to the template name' })),
  platform: t.Optional(t.Union(['telegram', 'discord', 'whatsapp', 'slack', 'custom'].map((p) => t.Literal(p)), { description: 'Defaults to custom' })),
  platform_config: t.Optional(t.Nullable(t.Record(t.String(), t.Unknown(), { description: 'Platform credentials (see POST /api/bots)' }))),
  config_values: t.Optional(t.Record(t.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), t.String({ maxLength: 10000 }), { description: 'Values for the template\'s {{placeholders}}' })),
  llm_api_key: t.Optional(t.String({ minLength: 1, maxLength: 1000, description: 'BYOK key (sets billing_mode byok)' })),
  llm_provider: t.Optional(t.Union(['anthropic', 'openai', 'gemini', 'groq', 'workers-ai', 'ollama', 'custom'].map((p) => t.Literal(p)))),
  llm_model: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
})
export type SetupInput = typeof SetupBody.static
