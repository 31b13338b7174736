import { Elysia } from 'elysia'
import type { Kernel } from '../kernel'
import { ApiError } from './errors'
import { enforceRate } from './rate-limit'
import { resolveApiToken, sessionPrincipal } from '../auth/authenticate'
import { requireScope, type Principal } from '../auth/principal'
import type { Scope } from '../auth/scopes'
import { publicBase } from './client-ip'
import { verifyHs256 } from '../auth/jwt'

export const JWT_TTL = '24h'
export const JWT_TTL_SECONDS = 24 * 3600

/**
 * What a route needs: `true` (any signed-in caller), a scope name, or options.
 *  - scope: the scope an API key must carry (sessions have every scope)
 *  - admin: the caller's role must be admin
 *  - session: only a login session (JWT or cookie), never an API key
 *  - apiKeyHeader: also accept `X-API-Key` (where a reference allows it)
 */
export type AuthRequirement = true | Scope | { scope?: Scope; admin?: boolean; session?: boolean; apiKeyHeader?: boolean }

/**
 * The caller rides on the Request under symbols (not WeakMaps keyed by request: one ephemeron per request
 * for the collector). EARLY: resolved by the body parser before the body was read (authenticateBeforeBody);
 * CALLER: checked by the route's transform, handed to the handler.
 */
const EARLY = Symbol('agentbase.early-principal')
const CALLER = Symbol('agentbase.principal')
type WithCaller = { [EARLY]?: Principal; [CALLER]?: Principal }
const carried = (request: Request) => request as WithCaller

/**
 * Called by the global body parser for routes that need a credential: a missing or invalid one is a 401
 * before a byte of the body is read (no parsing, 413 or 415 for strangers). The route's own transform
 * then takes the caller from here and applies its scope, role and rate checks.
 */
export async function authenticateBeforeBody(k: Kernel, request: Request, apiKeyHeader: boolean) {
  if (carried(request)[EARLY]) return
  const p = await resolvePrincipal(k, request, jwtVerifier(k), sessionCookie(k, request), apiKeyHeader)
  if (!p) throw new ApiError(401, 'Authentication required: send Authorization: Bearer <token>', 'unauthorized')
  carried(request)[EARLY] = p
}

// OpenAPI security requirements the macros add to each route they guard (/swagger/json).
type Security = Record<string, string[]>[]
export const BEARER: Security = [{ bearer: [] }]
export const BEARER_OR_KEY: Security = [{ bearer: [] }, { apiKey: [] }]
const OPTIONAL_BEARER: Security = [{}, { bearer: [] }]

const BEARER_PREFIX = /^\s*Bearer\s+/i
const visible = (c: number) => c > 32 && c < 127
function bearer(request: Request, apiKeyHeader: boolean): string | null {
  const h = request.headers.get('authorization')
  if (h) {
    // The common exact form without a regex (this runs on every authenticated request).
    if (h.startsWith('Bearer ') && visible(h.charCodeAt(7)) && visible(h.charCodeAt(h.length - 1))) return h.slice(7)
    const m = BEARER_PREFIX.exec(h)
    const token = m ? h.slice(m[0].length).trim() : ''
    if (!token) throw new ApiError(401, 'Authorization header must be "Bearer <token>"', 'unauthorized')
    return token
  }
  return apiKeyHeader ? request.headers.get('x-api-key') : null
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Cookie-authenticated writes must come from our own origin (no CSRF). Our origin is the request's,
 * or the public one (AGENTBASE_PUBLIC_URL, or X-Forwarded-* behind a trusted proxy).
 */
function checkSameOrigin(k: Kernel, request: Request) {
  if (safeMethods.has(request.method)) return
  const site = request.headers.get('sec-fetch-site')
  const origin = request.headers.get('origin')
  if (!site && !origin) return // not a browser: no ambient-cookie risk
  if (site === 'same-origin' || site === 'none') return
  if (origin && (origin === new URL(request.url).origin || origin === new URL(publicBase(request, k.config.publicUrl, k.config.trustProxy)).origin)) return
  throw new ApiError(403, 'Cross-site request refused: cookie sessions only accept requests from this origin', 'csrf')
}

/**
 * The session id from the Cookie header. Read directly rather than through Elysia's `cookie`: Elysia
 * parses cookies only when it infers from a hook's source text that it uses them, and that inference
 * misses in the minified binary.
 */
export const sessionCookie = (k: Kernel, request: Request) => {
  const header = request.headers.get('cookie')
  return header ? k.sessions.readSessionCookie(header) : null
}

export type JwtVerify = (token: string, options?: { currentDate?: Date; algorithms?: string[] }) => Promise<false | Record<string, unknown>>

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
    // Our clock (tests pin it) and only our algorithm: alg "none" and swapped algorithms are refused.
    const claims = await verify(token, { currentDate: new Date(k.clock.now()), algorithms: ['HS256'] })
    if (!claims || typeof claims.sid !== 'string') throw new ApiError(401, 'Invalid or expired token', 'invalid_token')
    const p = await sessionPrincipal(k, claims.sid)
    if (!p || p.userId !== claims.sub) throw new ApiError(401, 'Session has ended; log in again', 'session_ended')
    return p
  }
  if (typeof cookieSid === 'string' && cookieSid) {
    const p = await sessionPrincipal(k, cookieSid)
    if (p) checkSameOrigin(k, request)
    return p
  }
  return null
}

/** The JWT check to hand `resolvePrincipal` (login JWTs are signed with @elysiajs/jwt's `jwt.sign`). */
export const jwtVerifier = (k: Kernel): JwtVerify => async (token) => verifyHs256(token, k.jwtSecret, k.clock.now()) ?? false

export const authGuard = (k: Kernel) => {
  const verify = jwtVerifier(k)
  return new Elysia({ name: 'auth-guard', seed: k.seed })
    .macro({
      auth: (need: AuthRequirement) => {
        const opts = typeof need === 'object' ? need : { scope: need === true ? undefined : need }
        return {
          detail: { security: opts.apiKeyHeader ? BEARER_OR_KEY : BEARER },
          // transform runs before body validation: an unauthenticated caller learns nothing about schemas.
          async transform({ request, set }) {
            const p = carried(request)[EARLY] ?? await resolvePrincipal(k, request, verify, sessionCookie(k, request), !!opts.apiKeyHeader)
            if (!p) throw new ApiError(401, 'Authentication required: send Authorization: Bearer <token>', 'unauthorized')
            // Rate first: every authenticated answer (even a 403) carries the X-RateLimit-* headers and counts.
            enforceRate(k.limiter, set, p.rateKey, p.rpm)
            if (opts.session && p.via !== 'session') throw new ApiError(403, 'This route needs a login session, not an API key', 'session_required')
            if (opts.admin && (p.role !== 'admin' || (p.via !== 'session' && !p.instanceWide))) throw new ApiError(403, 'Admins only (a login session or an admin token)', 'admin_required')
            if (opts.scope) requireScope(p, opts.scope)
            carried(request)[CALLER] = p
          },
          resolve: ({ request }) => ({ principal: carried(request)[CALLER]! }),
        }
      },
      /** Signed-in callers get a principal, anonymous ones null (e.g. registration). */
      optionalAuth: (on: boolean) => ({
        detail: { security: OPTIONAL_BEARER },
        async transform({ request }) {
          if (!on) return
          const p = await resolvePrincipal(k, request, verify, sessionCookie(k, request))
          if (p) carried(request)[CALLER] = p
        },
        resolve: ({ request }) => ({ maybePrincipal: carried(request)[CALLER] ?? null }),
      }),
    })
}
