import type { Kernel } from '../../src/kernel'
import { ApiError, badRequest, forbidden, notFound } from '../../src/http/errors'
import type { Principal } from '../../src/auth/principal'
import { unknownScopes } from '../../src/auth/scopes'
import { mintKey } from '../../src/auth/keys'
import { TOKEN_RPM, flushTouched, forgetTokens } from '../../src/auth/authenticate'
import { newId } from '../../src/db/ids'
import { iso, nowIso } from '../../src/clock'
import * as workspaces from '../workspaces/service'
import { tokenStore, type TokenRow } from './store'
import type { TokenView } from './model'

type Row = TokenRow

const view = (r: Row): TokenView => ({
  id: r.id, name: r.name, type: r.type, prefix: r.prefix, workspace_id: r.workspace_id, scopes: r.scopes ? JSON.parse(r.scopes) : null,
  rate_limit_rpm: r.rpm, expires_at: r.expires_at, last_used_at: r.last_used_at, created_at: r.created_at,
})

export interface CreateTokenInput {
  name: string; type?: 'personal' | 'workspace' | 'admin'; workspace_id?: string; scopes?: string[]
  expires_at?: string; expires_in_days?: number; rate_limit_rpm?: number
}

export function create(k: Kernel, who: Principal, input: CreateTokenInput) {
  const type = input.type ?? 'personal'
  if (type === 'admin' && who.role !== 'admin') throw forbidden('Only admins can create admin tokens')
  if (type === 'workspace') {
    if (!input.workspace_id) throw badRequest('workspace_id is required for workspace tokens', { workspace_id: 'is required' })
    workspaces.requireOwned(k, who, input.workspace_id)
  } else if (input.workspace_id) throw badRequest('workspace_id is only allowed for workspace tokens', { workspace_id: 'only for type "workspace"' })
  if (input.scopes) {
    const bad = unknownScopes(input.scopes)
    if (bad) throw badRequest(bad, { scopes: 'contains unknown scopes' })
  }
  const now = k.clock.now()
  let expires: string | null = null
  if (input.expires_at && input.expires_in_days) throw badRequest('Give expires_at or expires_in_days, not both')
  if (input.expires_at) {
    const at = Date.parse(input.expires_at)
    if (!(at > now)) throw badRequest('expires_at must be in the future', { expires_at: 'must be in the future' })
    expires = iso(at)
  } else if (input.expires_in_days) expires = iso(now + input.expires_in_days * 86400_000)
  const dflt = TOKEN_RPM[type]
  const rpm = input.rate_limit_rpm ?? dflt
  if (rpm > dflt && who.role !== 'admin') throw badRequest(`rate_limit_rpm may not exceed ${dflt} for ${type} tokens`, { rate_limit_rpm: `must be at most ${dflt}` })
  const { key, hash, display } = mintKey('ab_pat_')
  const row: Row = {
    id: newId('tok'), user_id: who.userId, name: input.name, type, workspace_id: input.workspace_id ?? null,
    scopes: input.scopes ? JSON.stringify([...new Set(input.scopes)]) : null, rpm, prefix: display, expires_at: expires,
    last_used_at: null, revoked_at: null, created_at: iso(now),
  }
  tokenStore(k.db).insert(row, hash)
  return { token: view(row), key }
}

export function list(k: Kernel, who: Principal): TokenView[] {
  flushTouched(k) // read-your-writes for last_used_at
  return tokenStore(k.db).active(who.userId).map(view)
}

export function revoke(k: Kernel, who: Principal, id: string) {
  if (!tokenStore(k.db).revoke(id, who.userId, nowIso(k.clock))) throw notFound('Token')
  forgetTokens(k, { tokenId: id })
}

export { ApiError }
