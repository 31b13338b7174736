import { t } from 'elysia'
import { ALL_SCOPES, READ_ONLY_SCOPES } from '../../src/auth/scopes'

/** Field names in camelCase, as the bot accounts reference has them. */
export const SLUG_PATTERN = '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$'
export const MAX_RPM_USER = 1000
export const MAX_RPM_ADMIN = 100_000

const scopesField = t.Array(t.String({ minLength: 1, maxLength: 64 }), {
  maxItems: 50,
  description: `Permission scopes. Default (read-only): ${READ_ONLY_SCOPES.join(', ')}. Valid: ${ALL_SCOPES.join(', ')}`,
})

export const CreateBotAccount = t.Object({
  name: t.String({ minLength: 1, maxLength: 100, description: 'Bot display name' }),
  slug: t.String({ minLength: 1, maxLength: 64, pattern: SLUG_PATTERN, description: 'Unique URL-safe identifier: lowercase letters, digits and inner hyphens' }),
  description: t.Optional(t.Nullable(t.String({ maxLength: 1000 }))),
  avatarUrl: t.Optional(t.Nullable(t.String({ maxLength: 2048, description: 'Avatar image URL (http or https)' }))),
  scopes: t.Optional(scopesField),
  rateLimitRpm: t.Optional(t.Integer({ minimum: 1, maximum: MAX_RPM_ADMIN, description: `Requests per minute (default 60; at most ${MAX_RPM_USER} unless you are an admin)` })),
  workspaceId: t.Optional(t.String({ minLength: 1, maxLength: 64, description: "Bind the account to one of your workspaces: its key reaches only that workspace (a workspace token's accounts are always bound to its workspace)" })),
}, { additionalProperties: false })

export const UpdateBotAccount = t.Object({
  name: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
  description: t.Optional(t.Nullable(t.String({ maxLength: 1000 }))),
  avatarUrl: t.Optional(t.Nullable(t.String({ maxLength: 2048 }))),
  scopes: t.Optional(scopesField),
  isActive: t.Optional(t.Boolean({ description: 'Enable/disable the bot: an inactive bot\'s key is refused with 401' })),
  rateLimitRpm: t.Optional(t.Integer({ minimum: 1, maximum: MAX_RPM_ADMIN, description: 'Custom rate limit (requests per minute)' })),
}, { additionalProperties: false })

export const BotAccount = t.Object({
  id: t.String(),
  name: t.String(),
  slug: t.String(),
  description: t.Nullable(t.String()),
  avatarUrl: t.Nullable(t.String()),
  scopes: t.Array(t.String()),
  isActive: t.Boolean(),
  rateLimitRpm: t.Integer(),
  keyPrefix: t.String({ description: 'The first characters of the API key, for recognising it' }),
  workspaceId: t.Nullable(t.String({ description: 'The workspace the key is limited to; null: all of the owner\'s resources' })),
  createdAt: t.String(),
  updatedAt: t.String(),
})
export type BotAccountView = typeof BotAccount.static
export type CreateBotAccountInput = typeof CreateBotAccount.static
export type UpdateBotAccountInput = typeof UpdateBotAccount.static

export const BotIdParams = t.Object({ botId: t.String({ minLength: 1, maxLength: 64 }) })

export const ApiKeyEnvelope = t.Object({ apiKey: t.String({ description: 'bot_... shown only in this response' }) })
export const CreatedEnvelope = t.Object({ bot: BotAccount, apiKey: t.String({ description: 'bot_... shown only in this response; store it securely' }) })

// Memory: a small key-value store per bot account.
export const MEMORY_VALUE_MAX_BYTES = 64 * 1024
export const MEMORY_MAX_KEYS = 1000
export const MemoryKeyParams = t.Object({ key: t.String({ minLength: 1, maxLength: 200, description: 'Memory key (URL-encoded in the path)' }) })
export const MemoryItem = t.Object({ key: t.String(), value: t.Unknown(), updated_at: t.String() })
export const PutMemory = t.Object({ value: t.Unknown({ description: 'Any JSON value, at most 64 KB serialised' }) }, { additionalProperties: false })
export const MemoryListQuery = t.Object({
  prefix: t.Optional(t.String({ maxLength: 200, description: 'Only keys starting with this' })),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 1000, description: 'At most this many items (default 100)' })),
})
export const MemoryList = t.Object({ items: t.Array(MemoryItem), count: t.Integer() })
