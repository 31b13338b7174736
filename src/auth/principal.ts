import { ApiError } from '../http/errors'
import type { Scope } from './scopes'
import { READ_ONLY_SCOPES } from './scopes'

/** Who is calling: a user through a session/JWT, a personal/workspace/admin token, or a bot account key. */
export interface Principal {
  userId: string
  email: string
  role: 'admin' | 'user'
  via: 'session' | 'token' | 'bot_account'
  sessionId?: string
  tokenId?: string
  tokenType?: 'personal' | 'workspace' | 'admin'
  botAccountId?: string
  /** null: the whole reach of the credential's type. */
  scopes: Scope[] | null
  /** Set for workspace tokens: only this workspace's resources. */
  workspaceId: string | null
  /** Admin tokens reach every user's resources. */
  instanceWide: boolean
  /** Requests per minute for this principal's bucket. */
  rpm: number
  /** Bucket key for rate limiting. */
  rateKey: string
}

export const hasScope = (p: Principal, scope: Scope) => p.scopes === null || p.scopes.includes(scope)

export function requireScope(p: Principal, scope: Scope) {
  if (!hasScope(p, scope)) throw new ApiError(403, `This credential lacks the "${scope}" scope`, 'missing_scope')
}

/**
 * Whether `p` may reach a resource owned by `ownerId` (in `workspaceId`, if the resource has one).
 * Callers answer 404 on false: a resource that is not yours looks exactly like one that doesn't exist.
 */
export function canAccess(p: Principal, ownerId: string, workspaceId?: string | null): boolean {
  if (p.instanceWide) return true
  if (p.userId !== ownerId) return false
  if (p.workspaceId && workspaceId !== undefined && workspaceId !== p.workspaceId) return false
  return true
}

/** Filter for list queries: owner null means every owner (admin tokens); workspace null means any. */
export const listScope = (p: Principal) => ({ ownerId: p.instanceWide ? null : p.userId, workspaceId: p.workspaceId })

/**
 * Scopes for a credential `p` mints (SECURITY.md promise 3: inherited or narrowed, never widened). `requested`
 * undefined: the read-only default, cut down to what `p` holds. A scope `p` lacks: 403 naming it.
 */
export function mintableScopes(p: Principal, requested: string[] | undefined): string[] {
  if (requested === undefined) return p.scopes === null ? [...READ_ONLY_SCOPES] : READ_ONLY_SCOPES.filter((s) => p.scopes!.includes(s))
  if (p.scopes === null) return requested
  const wider = requested.filter((s) => !p.scopes!.includes(s as Scope))
  if (wider.length) {
    throw new ApiError(403, `This credential cannot grant scopes it does not hold: ${wider.map((s) => `"${s}"`).join(', ')}`, 'scope_escalation')
  }
  return requested
}
