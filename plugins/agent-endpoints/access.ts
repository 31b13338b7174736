import { createHmac } from 'node:crypto'
import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { resolvePrincipal, type JwtVerify } from '../../src/http/guard'
import { hashKey, safeEqual } from '../../src/auth/keys'
import { canAccess, hasScope, requireScope } from '../../src/auth/principal'
import { AUTH_MODES } from './model'
import type { RunSource, RunView } from '../../src/runs/types'
import type { Scope } from '../../src/auth/scopes'
import { endpointsStore } from './store'
import { endpointGone } from './execute'
import type { EndpointRow } from './store'

/**
 * Who may run an endpoint and read its runs. Endpoint keys (`aek_`) are not user credentials: they are
 * checked here, against one endpoint, and never taught to the global auth guard.
 */

/** The one JWT verification path (src/http/guard.ts jwtVerifier). */
type Verify = JwtVerify

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
    if (!canAccess(p, ep.owner_id, ep.workspace_id)) throw endpointGone()
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
export async function authorizeRunRead(k: Kernel, run: RunView, ep: EndpointRow, request: Request, verify: Verify, cookieSid: unknown, accessToken?: string) {
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

/** Scopes that read / cancel another surface's runs (an endpoint's runs use the endpoint rules above). */
export const RUN_SCOPES: Record<RunSource, { read: Scope; cancel: Scope }> = {
  endpoint: { read: 'endpoints.read', cancel: 'endpoints.run' },
  bot: { read: 'bots.read', cancel: 'bots.write' },
  chat: { read: 'chat.read', cancel: 'chat.write' },
  workflow: { read: 'workflows.read', cancel: 'workflows.run' },
  schedule: { read: 'agents.read', cancel: 'agents.write' },
  task: { read: 'endpoints.read', cancel: 'endpoints.run' },
  openai: { read: 'endpoints.read', cancel: 'endpoints.run' },
  mcp: { read: 'endpoints.read', cancel: 'endpoints.run' },
}

/**
 * Reading any run (GET /api/runs/:id and its events): an endpoint's run by the rules of authorizeRunRead; any
 * other run by its access_token or by its owner (within the workspace binding, with the surface's read scope).
 * Returns the endpoint for endpoint runs. Not the caller's run: 404, identical to a missing one.
 */
export async function authorizeAnyRead(k: Kernel, run: RunView, request: Request, verify: Verify, cookieSid: unknown, accessToken?: string): Promise<EndpointRow | null> {
  if (run.source === 'endpoint') {
    const ep = run.source_id ? endpointsStore(k.db).get(run.source_id) : null
    if (!ep) throw notFoundRun()
    await authorizeRunRead(k, run, ep, request, verify, cookieSid, accessToken)
    return ep
  }
  if (accessToken) {
    if (safeEqual(accessToken, runAccessToken(k, run.id))) return null
    throw notFoundRun()
  }
  const p = await resolvePrincipal(k, request, verify, credentials(request).bearer ? undefined : cookieSid)
  if (!p) throw new ApiError(401, 'Authentication required', 'unauthorized')
  if (!canAccess(p, run.owner_id, run.workspace_id)) throw notFoundRun()
  requireScope(p, RUN_SCOPES[run.source].read)
  return null
}

/** POST /api/runs/:id/cancel: the run's owner (endpoints.run, or the surface's write scope) or, for an endpoint's run, its key. */
export async function authorizeCancel(k: Kernel, run: RunView, request: Request, verify: Verify, cookieSid: unknown) {
  const ep = run.source === 'endpoint' && run.source_id ? endpointsStore(k.db).get(run.source_id) : null
  if (run.source === 'endpoint' && !ep) throw notFoundRun()
  const { key, bearer } = credentials(request)
  if (key) {
    if (ep && keyMatches(key, ep)) return
    throw notFoundRun()
  }
  const p = await resolvePrincipal(k, request, verify, bearer ? undefined : cookieSid)
  if (!p) throw new ApiError(401, 'Authentication required: send the endpoint\'s API key or your token', 'unauthorized')
  if (!canAccess(p, run.owner_id, run.workspace_id)) throw notFoundRun()
  requireScope(p, RUN_SCOPES[run.source].cancel)
}
