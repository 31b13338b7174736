import { t } from 'elysia'

/** Elysia's `format: 'email'` rule, for callers outside a route (the CLI). */
const EMAIL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i
export const isEmail = (s: string) => s.length <= 254 && EMAIL.test(s)

export const Email = t.String({ format: 'email', maxLength: 254, description: 'Email address', examples: ['ada@example.com'] })
export const Password = t.String({ minLength: 8, maxLength: 200, description: '8-200 characters' })

export const Credentials = t.Object({ email: Email, password: Password })
export const LoginBody = t.Object({ email: t.String({ minLength: 1, maxLength: 254 }), password: t.String({ minLength: 1, maxLength: 200 }) })

export const User = t.Object({
  id: t.String(),
  email: t.String(),
  role: t.Union([t.Literal('admin'), t.Literal('user')]),
  monthly_token_quota: t.Nullable(t.Integer()),
  disabled: t.Boolean(),
  created_at: t.String(),
})
export type UserView = typeof User.static

export const UserEnvelope = t.Object({ user: User })
export const LoginResponse = t.Object({ token: t.String({ description: 'JWT (HS256), valid 24 h; carries the session id' }), expires_at: t.String(), user: User })

export const AdminUserPatch = t.Object({
  disabled: t.Optional(t.Boolean()),
  role: t.Optional(t.Union([t.Literal('admin'), t.Literal('user')])),
  monthly_token_quota: t.Optional(t.Nullable(t.Integer({ minimum: 0, description: 'Tokens per calendar month for plan_quota bots; null = unlimited' }))),
})

export const ErrorBody = t.Object({ error: t.String(), code: t.Optional(t.String()), details: t.Optional(t.Record(t.String(), t.String())) })
