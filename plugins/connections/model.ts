import { t } from 'elysia'

export const ConnectionStatus = t.Union([t.Literal('active'), t.Literal('error'), t.Literal('expired'), t.Literal('disabled')])

export const CreateConnection = t.Object({
  platform: t.String({ minLength: 1, maxLength: 50, description: 'slack, telegram, discord, whatsapp, github, http or mcp (GET /api/connections/platforms)' }),
  name: t.String({ minLength: 1, maxLength: 100, description: 'A friendly name' }),
  config: t.Record(t.String(), t.Unknown(), { description: "The platform's credentials and settings (its config_schema). Encrypted at rest, never returned" }),
})
export type CreateConnectionInput = typeof CreateConnection.static

export const UpdateConnection = t.Object({
  name: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
  status: t.Optional(t.Union([t.Literal('active'), t.Literal('disabled')], { description: 'active re-authenticates; disabled stops offering its tools' })),
  config: t.Optional(t.Record(t.String(), t.Unknown(), { description: 'Replaces the config; re-authenticates' })),
})
export type UpdateConnectionInput = typeof UpdateConnection.static

export const TestConfig = t.Object({
  platform: t.String({ minLength: 1, maxLength: 50 }),
  config: t.Record(t.String(), t.Unknown()),
})

export const Connection = t.Object({
  id: t.String(),
  platform: t.String(),
  name: t.String(),
  status: ConnectionStatus,
  error_message: t.Nullable(t.String()),
  account: t.Nullable(t.Record(t.String(), t.Unknown(), { description: 'Who the credentials belong to, as the platform reported it' })),
  tools: t.Array(t.String(), { description: 'Tool names this connection enables' }),
  has_config: t.Boolean(),
  config_fields: t.Array(t.String(), { description: 'Names of the config fields that are set (values are never returned)' }),
  last_tested_at: t.Nullable(t.String()),
  created_at: t.String(),
  updated_at: t.String(),
})
export type ConnectionView = typeof Connection.static

export const TestResult = t.Object({
  ok: t.Boolean(),
  status: ConnectionStatus,
  error_message: t.Nullable(t.String()),
  account: t.Nullable(t.Record(t.String(), t.Unknown())),
  tools: t.Array(t.String()),
})

export const PlatformInfo = t.Object({
  id: t.String(),
  name: t.String(),
  description: t.String(),
  docs_url: t.String(),
  config_schema: t.Record(t.String(), t.Unknown()),
  secret_fields: t.Array(t.String()),
  tools: t.Array(t.Object({ name: t.String(), description: t.String(), input_schema: t.Record(t.String(), t.Unknown()) }), {
    description: 'Fixed tools; http and mcp tools come from the config (operations) or the server',
  }),
})
