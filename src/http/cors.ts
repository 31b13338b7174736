import { Elysia } from 'elysia'
import type { Kernel } from '../kernel'

/**
 * CORS (issue 11 item 19). Two surfaces:
 *  - public ones, meant to be called from any web page: agent-endpoint runs and their status/event streams
 *    (`AGENTBASE_CORS_PUBLIC_ORIGINS`, default `*`);
 *  - everything else under /api (`AGENTBASE_CORS_ORIGINS`, default none: no CORS headers at all).
 * Credentials are never allowed (no `Access-Control-Allow-Credentials`): browsers then send no cookies
 * cross-origin, so a page can only use a key or token it holds itself, and `*` is never paired with them.
 */
const publicPaths: RegExp[] = [
  /^\/api\/run\/[^/]+$/,
  /^\/api\/runs\/[^/]+$/,
  /^\/api\/runs\/[^/]+\/events$/,
]
/** Other domains add their public surfaces (a route template such as `/api/widgets/:id`). */
export function allowPublicCors(template: string) {
  publicPaths.push(new RegExp('^' + template.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\?:[A-Za-z_]+/g, '[^/]+') + '$'))
}

const ALLOW_HEADERS = 'Authorization, Content-Type, X-API-Key, X-Request-Id, Last-Event-ID'
const EXPOSE_HEADERS = 'X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After'
const ALLOW_METHODS = 'GET, POST, PUT, PATCH, DELETE'

/** The Access-Control-Allow-Origin value for this origin on this path, or null (no CORS headers). */
export function allowedOrigin(pathname: string, origin: string, config: { corsOrigins: string[]; corsPublicOrigins: string[] }): string | null {
  const list = publicPaths.some((r) => r.test(pathname)) ? config.corsPublicOrigins : pathname.startsWith('/api/') ? config.corsOrigins : []
  if (list.includes('*')) return '*'
  return list.includes(origin) ? origin : null
}

export const cors = (k: Kernel) =>
  new Elysia({ name: 'cors', seed: k.seed })
    .onRequest(({ request, set }) => {
      const origin = request.headers.get('origin')
      if (!origin) return
      const pathname = new URL(request.url).pathname
      const allow = allowedOrigin(pathname, origin, k.config)
      const preflight = request.method === 'OPTIONS' && request.headers.has('access-control-request-method')
      if (!allow) {
        // A preflight we do not allow: answered (no CORS headers), so the browser refuses the real request.
        if (preflight) return new Response(null, { status: 204, headers: { vary: 'Origin' } })
        return
      }
      const headers: Record<string, string> = { 'access-control-allow-origin': allow, vary: 'Origin', 'access-control-expose-headers': EXPOSE_HEADERS }
      if (preflight) {
        return new Response(null, {
          status: 204,
          headers: { ...headers, 'access-control-allow-methods': ALLOW_METHODS, 'access-control-allow-headers': ALLOW_HEADERS, 'access-control-max-age': '600' },
        })
      }
      Object.assign(set.headers, headers)
    })
