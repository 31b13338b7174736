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
  rpm: number; expires_at: string | null; revoked_at: string | null
}
interface UserRow { email: string; role: 'admin' | 'user'; disabled_at: string | null }

// Two primary-key lookups: measured ~10x cheaper in bun:sqlite than the equivalent JOIN (bench/auth.ts).
const TOKEN_SQL = 'SELECT id, user_id, type, workspace_id, scopes, rpm, expires_at, revoked_at FROM api_tokens WHERE hash = ?'
const USER_SQL = 'SELECT email, role, disabled_at FROM users WHERE id = ?'

const invalid = () => new ApiError(401, 'Invalid API token', 'invalid_token')

interface CachedToken { principal: Principal; expiresAt: number | null; workspaceId: string | null; at: number }

/**
 * Resolved tokens, kept briefly so the hot path does no SQL. Revocation and account changes go through
 * `forgetTokens` (tokens, auth and workspaces services) and take effect at once; the short lifetime
 * only bounds what a write made elsewhere (another tool, a cascade) could leave stale.
 */
class TokenCache {
  static TTL_MS = 2000
  static MAX = 10_000
  entries = new Map<string, CachedToken>()
}
const caches = new WeakMap<Kernel, TokenCache>()
function tokenCache(k: Kernel): TokenCache {
  let c = caches.get(k)
  if (!c) caches.set(k, (c = new TokenCache()))
  return c
}

/** Drops cached tokens by token, owner or workspace: call after revoking, disabling, demoting or deleting. */
export function forgetTokens(k: Kernel, which: { tokenId?: string; userId?: string; workspaceId?: string }) {
  const { entries } = tokenCache(k)
  for (const [hash, c] of entries) {
    if (c.principal.tokenId === which.tokenId || c.principal.userId === which.userId || (which.workspaceId && c.workspaceId === which.workspaceId)) entries.delete(hash)
  }
}

function loadToken(k: Kernel, hash: string): CachedToken {
  const row = k.db.query<TokenRow, [string]>(TOKEN_SQL).get(hash)
  if (!row || row.revoked_at) throw invalid()
  const user = k.db.query<UserRow, [string]>(USER_SQL).get(row.user_id)
  if (!user) throw invalid()
  if (user.disabled_at) throw new ApiError(401, 'This account is disabled', 'account_disabled')
  if (row.type === 'admin' && user.role !== 'admin') throw invalid() // demoted admins' tokens stop at once
  const principal: Principal = Object.freeze({
    userId: row.user_id,
    email: user.email,
    role: user.role,
    via: 'token',
    tokenId: row.id,
    tokenType: row.type,
    scopes: row.scopes ? (Object.freeze(JSON.parse(row.scopes)) as Scope[]) : null,
    workspaceId: row.type === 'workspace' ? row.workspace_id : null,
    instanceWide: row.type === 'admin',
    rpm: row.rpm,
    rateKey: `tok:${row.id}`,
  })
  return { principal, expiresAt: row.expires_at ? Date.parse(row.expires_at) : null, workspaceId: row.workspace_id, at: performance.now() }
}

/** Personal/workspace/admin tokens (`ab_pat_`). No write on this path: last-used goes to a batch. */
export function resolveApiToken(k: Kernel, key: string): Principal {
  const hash = hashKey(key)
  const cache = tokenCache(k)
  let c = cache.entries.get(hash)
  if (!c || performance.now() - c.at > TokenCache.TTL_MS) {
    cache.entries.delete(hash)
    c = loadToken(k, hash)
    if (cache.entries.size >= TokenCache.MAX) cache.entries.clear()
    cache.entries.set(hash, c)
  }
  const now = k.clock.now()
  if (c.expiresAt !== null && c.expiresAt <= now) throw new ApiError(401, 'API token has expired', 'token_expired')
  k.touched.set(c.principal.tokenId!, iso(now))
  return c.principal // frozen: shared by every request of this token while cached
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
