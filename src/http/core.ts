import { Elysia } from 'elysia'
import type { Kernel } from '../kernel'
import { ApiError } from './errors'
import { readableValidation } from './validation'
import { bodyLimitFor, parseBody } from './body'
import { RouteIndex, bodyGate } from './routes'
import { authenticateBeforeBody } from './guard'
import { cors } from './cors'
import { randomString } from '../db/ids'
import type { Logger } from '../log'

interface RequestMeta { id: string; start: number; log?: Logger }
/**
 * A request's id and start time ride on the Request object under a symbol. A WeakMap keyed by requests gave
 * the collector an ephemeron to trace for every request in flight (bench/RESULTS.md, issue 10 round 3).
 */
const META = Symbol('agentbase.request')
type WithMeta = { [META]?: RequestMeta }
const metaOf = (request: Request) => (request as WithMeta)[META]
export const requestId = (request: Request) => metaOf(request)?.id ?? ''

/** The request's logger: every line carries its `request_id` (DESIGN §5). Pass it on to work the request starts. */
export const requestLog = (k: Kernel, request: Request): Logger => {
  const meta = metaOf(request)
  if (!meta) return k.log
  return (meta.log ??= k.log.child({ request_id: meta.id }))
}

const validId = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * Request ids only need to be unique, not secret: a random per-process prefix and a counter (16 chars, like
 * before), instead of 16 CSPRNG characters per request (~4% of an authenticated request's CPU).
 */
const REQ_PREFIX = randomString(8)
// The counter runs over the 8-digit base-36 numbers (36^7 .. 36^8 - 1), so no padding is needed (padStart was
// ~2% of an authenticated request's CPU): 2.7 trillion ids before it wraps.
const FIRST = 36 ** 7, SPAN = 36 ** 8 - 36 ** 7
let reqCounter = 0
const mintRequestId = () => `req_${REQ_PREFIX}${(FIRST + (reqCounter++ % SPAN)).toString(36)}`

/**
 * Elysia's numeric coercion (query/path numbers) reports type "property" without the field's name;
 * find it in the query string by its value so the message still names the field.
 */
function nameCoercedField(request: Request, value: unknown, errors: any[]): [string, any[]] {
  const name = [...new URL(request.url).searchParams].find(([, s]) => s.trim() !== '' && Number(s) === value)?.[0]
  return name ? ['query', errors.map((e) => ({ ...e, path: `/${name}` }))] : ['parameter', errors]
}

/**
 * Cross-cutting HTTP conventions (DESIGN §5), applied to the whole app: request ids, CORS, the caller
 * checked before the body, the body parser with its limit and media types, `{ error }` for every failure,
 * access log, metrics.
 */
export const httpCore = (k: Kernel) => {
  const core = new Elysia({ name: 'http-core', seed: k.seed })
  // This instance's router history is the whole app's once it is mounted (as the docs plugin reads it).
  const routes = new RouteIndex(() => (core as any).getGlobalRoutes())
  return core
    .onRequest(({ request, set }) => {
      const given = request.headers.get('x-request-id')
      const id = given && validId.test(given) ? given : mintRequestId()
      ;(request as WithMeta)[META] = { id, start: performance.now() }
      set.headers['x-request-id'] = id
    })
    .use(cors(k))
    .onParse({ as: 'global' }, async ({ request, contentType, route, params }) => {
      // Who is calling comes before what they sent: 401 first, then 415 / 413 / 400.
      const info = routes.get(request.method, route)
      if (info.needsAuth) await authenticateBeforeBody(k, request, info.apiKeyHeader)
      const gate = bodyGate(k, request.method, route)
      if (gate) await gate(request, (params ?? {}) as Record<string, string>)
      return parseBody(request, contentType ?? '', bodyLimitFor(request.method, route), info.accepts)
    })
    .onError({ as: 'global' }, ({ code, error: thrown, set, request, route }) => {
      let error = thrown
      const reqId = requestId(request)
      if (reqId) set.headers['x-request-id'] = reqId
      set.headers['content-type'] = 'application/json'
      // Errors thrown while parsing arrive wrapped; unwrap ours (400 bad JSON, 413, 415).
      const cause = (error as { cause?: unknown }).cause
      if (code === 'PARSE' && cause instanceof ApiError) error = cause
      if (error instanceof ApiError) {
        set.status = error.status
        if (error.headers) Object.assign(set.headers, error.headers)
        return error.toBody()
      }
      switch (code) {
        case 'VALIDATION': {
          const v = error as unknown as { type: string; all: any[]; value: unknown }
          const [on, errors] = v.type === 'property' ? nameCoercedField(request, v.value, v.all ?? []) : [v.type, v.all ?? []]
          const r = readableValidation(on, errors)
          const type = request.headers.get('content-type') ?? ''
          if (v.type === 'body' && type && !type.includes('json')) {
            set.status = 415
            return { error: 'Request body must be JSON (Content-Type: application/json)', code: 'unsupported_media_type' }
          }
          set.status = 400
          return { error: r.message, code: 'validation_failed', details: r.details }
        }
        case 'PARSE':
          set.status = 400
          return { error: 'Request body is not valid JSON', code: 'invalid_json' }
        case 'NOT_FOUND':
          set.status = 404
          return { error: `No route for ${request.method} ${new URL(request.url).pathname}`, code: 'route_not_found' }
        case 'INVALID_COOKIE_SIGNATURE':
          set.status = 401
          return { error: 'Invalid session cookie', code: 'unauthorized' }
        default: {
          // Elysia's own status() errors carry a status; everything else is ours to hide.
          const status = (error as { status?: number }).status
          if (typeof status === 'number' && status >= 400 && status < 500) {
            set.status = status
            const resp = (error as { response?: unknown }).response
            return typeof resp === 'object' && resp && 'error' in resp ? resp : { error: String(resp ?? 'Request failed') }
          }
          requestLog(k, request).error('unhandled error', { route, error: (error as Error)?.message, stack: (error as Error)?.stack })
          set.status = 500
          return { error: `Internal error (request ${reqId})`, code: 'internal_error' }
        }
      }
    })
    .onAfterResponse({ as: 'global' }, ({ request, route, set }) => {
      const meta = metaOf(request)
      const seconds = meta ? (performance.now() - meta.start) / 1000 : 0
      const status = typeof set.status === 'number' ? set.status : 200
      const template = route || 'unmatched'
      k.metrics.observe(request.method, template, status, seconds)
      // The kernel's logger, not the request's child: the line names its request_id once.
      k.log.info('request', { request_id: meta?.id, method: request.method, route: template, status, ms: Math.round(seconds * 1000 * 10) / 10 })
    })
}
