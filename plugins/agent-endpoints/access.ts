import { createHmac } from 'node:crypto'
import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { resolvePrincipal } from '../../src/http/guard'
import { hashKey, safeEqual } from '../../src/auth/keys'
import { canAccess, hasScope, requireScope } from '../../src/auth/principal'
import { AUTH_MODES } from './model'
import type { EndpointRow, RunRow } from './store'

/**
 * Who may run an endpoint and read its runs. Endpoint keys (`aek_`) are not user credentials: they are
 * checked here, against one endpoint, and never taught to the global auth guard.
 */

type Verify = (token: string, options?: { currentDate?: Date; algorithms?: string[] }) => Promise<false | Record<string, unknown>>

/** The `aek_` key (Authorization: Bearer or X-API-Key) and any other bearer credential sent. */
function credentials(request: Request): { key: string | null; bearer: string | null } {
  const h = request.headers.get('authorization')
  let bearer: string | null = null
  if (h) {
    const m = /^Bearer\s+(.+)$/i.exec(h.trim())
    if (!m) throw new ApiError(401, 'Authorization header must be "Bearer <key>"', 'unauthorized')
    bearer = m[1].trim()
  }
  if (bearer?.startsWith('aek_')) return { key: bearer, bearer: null }
  const x = request.headers.get('x-api-key')?.trim() || null
  return { key: x, bearer }
}

const keyMatches = (key: string, ep: EndpointRow) => safeEqual(hashKey(key), ep.key_hash)

export interface RunCaller { kind: 'key' | 'owner' | 'public'; rateKey: (ip: string) => string }

/**
 * POST /api/run/:slug: the endpoint's key, the owner's JWT or token with `endpoints.run`, or nothing for
 * `public` endpoints. 403 for an auth mode outside the allowlist, 401 for a missing or wrong key.
 */
export async function authorizeRun(k: Kernel, ep: EndpointRow, request: Request, verify: Verify): Promise<RunCaller> {
  if (!(AUTH_MODES as readonly string[]).includes(ep.auth_mode)) {
    throw new ApiError(403, `This endpoint has an unsupported auth mode ("${ep.auth_mode}"); supported: ${AUTH_MODES.join(', ')}`, 'unsupported_auth_mode')
  }
  const { key, bearer } = credentials(request)
  const byKey: RunCaller = { kind: 'key', rateKey: () => `aep:${ep.id}:key` }
  if (key) {
    if (!keyMatches(key, ep)) throw new ApiError(401, 'Invalid API key', 'invalid_api_key')
    return byKey
  }
  if (bearer) {
    const p = await resolvePrincipal(k, request, verify, undefined)
    if (!p) throw new ApiError(401, 'Invalid API key', 'invalid_api_key')
    // Someone else's endpoint answers exactly like a missing one to a signed-in caller (no existence oracle).
    if (!canAccess(p, ep.owner_id, ep.workspace_id)) throw notFoundEndpoint()
    requireScope(p, 'endpoints.run')
    return { kind: 'owner', rateKey: byKey.rateKey }
  }
  if (ep.auth_mode === 'public') return { kind: 'public', rateKey: (ip) => `aep:${ep.id}:ip:${ip}` }
  throw new ApiError(401, 'API key required: send Authorization: Bearer aek_... or X-API-Key: aek_...', 'api_key_required')
}

/** A per-run read capability for status_url / events_url (a browser EventSource cannot send headers). */
export const runAccessToken = (k: Kernel, runId: string) =>
  createHmac('sha256', k.jwtSecret).update(`run-read:${runId}`).digest('base64url').slice(0, 32)

/**
 * GET /api/runs/:id and its events: the run's `access_token` (from status_url), the endpoint's key, or the
 * owner's JWT / session cookie / token (endpoints.run or endpoints.read). A run that is not the caller's is 404.
 */
export async function authorizeRunRead(k: Kernel, run: RunRow, ep: EndpointRow, request: Request, verify: Verify, cookieSid: unknown, accessToken?: string) {
  if (accessToken) {
    if (safeEqual(accessToken, runAccessToken(k, run.id))) return
    throw notFoundRun() // a wrong token tells nothing about whether the run exists
  }
  const { key, bearer } = credentials(request)
  if (key) {
    if (keyMatches(key, ep)) return
    throw notFoundRun()
  }
  const p = await resolvePrincipal(k, request, verify, bearer ? undefined : cookieSid)
  if (!p) throw new ApiError(401, 'Authentication required: send the endpoint\'s API key, your token, or use the status_url with its access_token', 'unauthorized')
  if (!canAccess(p, ep.owner_id, ep.workspace_id)) throw notFoundRun()
  if (!hasScope(p, 'endpoints.run') && !hasScope(p, 'endpoints.read')) requireScope(p, 'endpoints.run')
}

export const notFoundRun = () => new ApiError(404, 'Run not found', 'not_found')
export const notFoundEndpoint = () => new ApiError(404, 'Agent endpoint not found or not active', 'not_found')
