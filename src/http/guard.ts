import { Elysia } from 'elysia'
import { jwt } from '@elysiajs/jwt'
import type { Kernel } from '../kernel'
import { ApiError } from './errors'
import { enforceRate } from './rate-limit'
import { resolveApiToken, sessionPrincipal } from '../auth/authenticate'
import { requireScope, type Principal } from '../auth/principal'
import type { Scope } from '../auth/scopes'

export const JWT_TTL = '24h'

/**
 * What a route needs: `true` (any signed-in caller), a scope name, or options.
 *  - scope: the scope an API key must carry (sessions have every scope)
 *  - admin: the caller's role must be admin
 *  - session: only a login session (JWT or cookie), never an API key
 *  - apiKeyHeader: also accept `X-API-Key` (where a reference allows it)
 */
export type AuthRequirement = true | Scope | { scope?: Scope; admin?: boolean; session?: boolean; apiKeyHeader?: boolean }

const principals = new WeakMap<Request, Principal>()

function bearer(request: Request, apiKeyHeader: boolean): string | null {
  const h = request.headers.get('authorization')
  if (h) {
    const m = /^Bearer\s+(.+)$/i.exec(h.trim())
    if (!m) throw new ApiError(401, 'Authorization header must be "Bearer <token>"', 'unauthorized')
    return m[1].trim()
  }
  return apiKeyHeader ? request.headers.get('x-api-key') : null
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Cookie-authenticated writes must come from our own origin (no CSRF). */
function checkSameOrigin(request: Request) {
  if (safeMethods.has(request.method)) return
  const site = request.headers.get('sec-fetch-site')
  if (site === 'same-origin' || site === 'none') return
  const origin = request.headers.get('origin')
  if (origin && origin === new URL(request.url).origin) return
  if (!site && !origin) return // not a browser: no ambient-cookie risk
  throw new ApiError(403, 'Cross-site request refused: cookie sessions only accept requests from this origin', 'csrf')
}

type JwtVerify = (token: string) => Promise<false | Record<string, unknown>>

/** Finds the caller from a bearer credential or the session cookie; null when none was sent. */
export async function resolvePrincipal(k: Kernel, request: Request, verify: JwtVerify, cookieSid: unknown, apiKeyHeader = false): Promise<Principal | null> {
  const token = bearer(request, apiKeyHeader)
  if (token) {
    if (token.startsWith('ab_pat_')) return resolveApiToken(k, token)
    for (const [prefix, resolve] of k.keyResolvers) {
      if (token.startsWith(prefix)) {
        const p = resolve(token)
        if (!p) throw new ApiError(401, 'Invalid API key', 'invalid_token')
        return p
      }
    }
    const claims = await verify(token)
    if (!claims || typeof claims.sid !== 'string') throw new ApiError(401, 'Invalid or expired token', 'invalid_token')
    const p = await sessionPrincipal(k, claims.sid)
    if (!p || p.userId !== claims.sub) throw new ApiError(401, 'Session has ended; log in again', 'session_ended')
    return p
  }
  if (typeof cookieSid === 'string' && cookieSid) {
    const p = await sessionPrincipal(k, cookieSid)
    if (p) checkSameOrigin(request)
    return p
  }
  return null
}

export const authGuard = (k: Kernel) =>
  new Elysia({ name: 'auth-guard', seed: k })
    .use(jwt({ name: 'jwt', secret: k.jwtSecret, exp: JWT_TTL, alg: 'HS256' }))
    .macro({
      auth: (need: AuthRequirement) => ({
        // transform runs before body validation: an unauthenticated caller learns nothing about schemas.
        async transform({ request, jwt, cookie, set }) {
          const opts = typeof need === 'object' ? need : { scope: need === true ? undefined : need }
          const p = await resolvePrincipal(k, request, jwt.verify as JwtVerify, cookie[k.sessions.sessionCookieName]?.value, !!opts.apiKeyHeader)
          if (!p) throw new ApiError(401, 'Authentication required: send Authorization: Bearer <token>', 'unauthorized')
          if (opts.session && p.via !== 'session') throw new ApiError(403, 'This route needs a login session, not an API key', 'session_required')
          if (opts.admin && (p.role !== 'admin' || (p.via !== 'session' && !p.instanceWide))) throw new ApiError(403, 'Admins only (a login session or an admin token)', 'admin_required')
          if (opts.scope) requireScope(p, opts.scope)
          enforceRate(k.limiter, set, p.rateKey, p.rpm)
          principals.set(request, p)
        },
        resolve: ({ request }) => ({ principal: principals.get(request)! }),
      }),
      /** Signed-in callers get a principal, anonymous ones null (e.g. registration). */
      optionalAuth: (on: boolean) => ({
        async transform({ request, jwt, cookie }) {
          if (!on) return
          const p = await resolvePrincipal(k, request, jwt.verify as JwtVerify, cookie[k.sessions.sessionCookieName]?.value)
          if (p) principals.set(request, p)
        },
        resolve: ({ request }) => ({ maybePrincipal: principals.get(request) ?? null }),
      }),
    })
