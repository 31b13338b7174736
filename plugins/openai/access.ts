import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { jwtVerifier, resolvePrincipal } from '../../src/http/guard'
import { enforceRate } from '../../src/http/rate-limit'
import { hashKey } from '../../src/auth/keys'
import { canAccess, listScope, requireScope, type Principal } from '../../src/auth/principal'
import type { EndpointRow } from '../agent-endpoints/service'
import * as endpoints from '../agent-endpoints/service'

/**
 * Who calls the OpenAI-compatible routes: an agent endpoint's own `aek_` key (that one agent), or an
 * API token / JWT with `endpoints.run` (every active endpoint it can reach). Bearer only, like OpenAI.
 */
export type Caller = { kind: 'key'; endpoint: EndpointRow } | { kind: 'principal'; principal: Principal }

type Headers = { headers: Record<string, any> }

export async function resolveCaller(k: Kernel, request: Request, set: Headers): Promise<Caller> {
  const h = request.headers.get('authorization')
  const m = h ? /^Bearer\s+(.+)$/i.exec(h.trim()) : null
  if (!m) throw new ApiError(401, 'Authentication required: you did not provide an API key; send Authorization: Bearer <ab_pat_... or aek_...>', 'missing_api_key')
  const token = m[1].trim()
  if (token.startsWith('aek_')) {
    const ep = endpoints.findByKeyHash(k, hashKey(token))
    if (!ep) throw new ApiError(401, 'Incorrect API key provided', 'invalid_api_key')
    return { kind: 'key', endpoint: ep }
  }
  const p = await resolvePrincipal(k, request, jwtVerifier(k), undefined)
  if (!p) throw new ApiError(401, 'Incorrect API key provided', 'invalid_api_key')
  enforceRate(k.limiter, set, p.rateKey, p.rpm)
  requireScope(p, 'endpoints.run')
  return { kind: 'principal', principal: p }
}

/** The active agents a caller may use, oldest first. */
export function usableAgents(k: Kernel, caller: Caller): EndpointRow[] {
  if (caller.kind === 'key') return caller.endpoint.status === 'active' ? [caller.endpoint] : []
  const { ownerId, workspaceId } = listScope(caller.principal)
  return endpoints.listActive(k, ownerId, workspaceId)
}

/** The agent named by `model` (its id or slug), if the caller may use it; 404 `model_not_found` otherwise. */
export function agentFor(k: Kernel, caller: Caller, model: string): EndpointRow {
  const missing = () => new ApiError(404, `The model \`${model}\` does not exist or you do not have access to it.`, 'model_not_found')
  if (caller.kind === 'key') {
    const ep = caller.endpoint
    if ((ep.id !== model && ep.slug !== model) || ep.status !== 'active') throw missing()
    return ep
  }
  const ep = endpoints.findByIdOrSlug(k, model)
  if (!ep || ep.status !== 'active' || !canAccess(caller.principal, ep.owner_id, ep.workspace_id)) throw missing()
  return ep
}

/** The endpoint's own run budget applies here as on POST /api/run/:slug (same bucket). */
export const enforceAgentRate = (k: Kernel, set: Headers, ep: EndpointRow) =>
  enforceRate(k.limiter, set, `aep:${ep.id}:key`, ep.rate_limit_rpm, 'Rate limited: too many runs of this agent')
