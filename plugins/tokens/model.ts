import { t } from 'elysia'
import { ALL_SCOPES } from '../../src/auth/scopes'

export const TokenType = t.Union([t.Literal('personal'), t.Literal('workspace'), t.Literal('admin')], { description: 'personal: your own resources (100/min); workspace: one workspace (500/min); admin: the whole instance, admins only (1,000/min)' })

export const CreateToken = t.Object({
  name: t.String({ minLength: 1, maxLength: 100 }),
  type: t.Optional(TokenType),
  workspace_id: t.Optional(t.String({ minLength: 1, maxLength: 100, description: 'Required for workspace tokens' })),
  scopes: t.Optional(t.Array(t.String(), { maxItems: 50, description: `Omit for the type's whole reach. Valid: ${ALL_SCOPES.join(', ')}` })),
  expires_at: t.Optional(t.String({ format: 'date-time', description: 'ISO 8601; omit for no expiry' })),
  expires_in_days: t.Optional(t.Integer({ minimum: 1, maximum: 3650 })),
  rate_limit_rpm: t.Optional(t.Integer({ minimum: 1, maximum: 10_000_000, description: "Lower than the type's default for anyone; higher for admins only" })),
})

export const Token = t.Object({
  id: t.String(),
  name: t.String(),
  type: TokenType,
  prefix: t.String({ description: 'The first characters of the key, for recognising it' }),
  workspace_id: t.Nullable(t.String()),
  scopes: t.Nullable(t.Array(t.String())),
  rate_limit_rpm: t.Integer(),
  expires_at: t.Nullable(t.String()),
  last_used_at: t.Nullable(t.String()),
  created_at: t.String(),
})
export type TokenView = typeof Token.static
