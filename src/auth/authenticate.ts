import type { Kernel } from '../kernel'
import { ApiError } from '../http/errors'
import { hashKey } from './keys'
import type { Principal } from './principal'
import type { Scope } from './scopes'
import { iso } from '../clock'

export const TOKEN_RPM = { personal: 100, workspace: 500, admin: 1000 } as const
export const SESSION_RPM = 1200

interface TokenRow {
  id: string; user_id: string; type: 'personal' | 'workspace' | 'admin'; workspace_id: string | null; scopes: string | null
  rpm: number; expires_at: string | null; revoked_at: string | null; email: string; role: 'admin' | 'user'; disabled_at: string | null
}

const invalid = () => new ApiError(401, 'Invalid API token', 'invalid_token')

/** Personal/workspace/admin tokens (`ab_pat_`). One indexed read; last-used goes to a batch, not a write. */
export function resolveApiToken(k: Kernel, key: string): Principal {
  const row = k.db.query<TokenRow, [string]>(
    `SELECT t.id, t.user_id, t.type, t.workspace_id, t.scopes, t.rpm, t.expires_at, t.revoked_at, u.email, u.role, u.disabled_at
     FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?`,
  ).get(hashKey(key))
  if (!row || row.revoked_at) throw invalid()
  const now = k.clock.now()
  if (row.expires_at && Date.parse(row.expires_at) <= now) throw new ApiError(401, 'API token has expired', 'token_expired')
  if (row.disabled_at) throw new ApiError(401, 'This account is disabled', 'account_disabled')
  if (row.type === 'admin' && row.role !== 'admin') throw invalid() // demoted admins' tokens stop at once
  k.touched.set(row.id, iso(now))
  return {
    userId: row.user_id,
    email: row.email,
    role: row.role,
    via: 'token',
    tokenId: row.id,
    tokenType: row.type,
    scopes: row.scopes ? (JSON.parse(row.scopes) as Scope[]) : null,
    workspaceId: row.type === 'workspace' ? row.workspace_id : null,
    instanceWide: row.type === 'admin',
    rpm: row.rpm,
    rateKey: `tok:${row.id}`,
  }
}

/** Flushes batched last-used timestamps in one transaction. */
export function flushTouched(k: Kernel) {
  if (k.touched.size === 0) return
  const entries = [...k.touched]
  k.touched.clear()
  const stmt = k.db.query('UPDATE api_tokens SET last_used_at = ? WHERE id = ?')
  k.db.transaction(() => { for (const [id, at] of entries) stmt.run(at, id) })()
}

/** A validated lucia session (cookie, or the `sid` inside a JWT) as a principal. */
export async function sessionPrincipal(k: Kernel, sessionId: string): Promise<Principal | null> {
  const { session, user } = await k.sessions.validateSession(sessionId)
  if (!session || !user) return null
  if (user.disabledAt) return null
  return {
    userId: user.id,
    email: user.email,
    role: user.role,
    via: 'session',
    sessionId: session.id,
    scopes: null,
    workspaceId: null,
    instanceWide: false,
    rpm: SESSION_RPM,
    rateKey: `usr:${user.id}`,
  }
}
