import { acceptedKinds, MEDIA } from '../../src/http/routes'
import { cleanSchema, isOptionalSchema, isSchema } from './schema'

/**
 * The OpenAPI 3.1 document, built from every route's own schemas (params, query, headers, body, response)
 * and the conventions every route shares (DESIGN §5), so a new route is documented truly without repeating
 * them: the body media types it really accepts (its `type` option, else JSON only), the error responses it
 * can give (`{ error, code, details? }`: 400/413/415 with a body, 401/403 when it needs a credential, 404
 * with a path parameter, 429 everywhere, 500), and the headers every answer carries (X-Request-Id and the
 * X-RateLimit-* trio; Retry-After on 429).
 */
type Json = Record<string, any>
export type RouteLike = { method: string; path: string; hooks: Json }

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'trace']

const header = (description: string, schema: Json) => ({ description, schema })
const HEADERS = {
  'X-Request-Id': header('The request id (yours when you sent a sane X-Request-Id); also in the server log line', { type: 'string' }),
  'X-RateLimit-Limit': header('Requests allowed per minute for this caller (rate-limited routes)', { type: 'integer' }),
  'X-RateLimit-Remaining': header('Requests left in the current window', { type: 'integer' }),
  'X-RateLimit-Reset': header('When the bucket is full again (Unix epoch seconds)', { type: 'integer' }),
  'Retry-After': header('Seconds to wait before retrying', { type: 'integer' }),
}
const COMMON_HEADERS = ['X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']
const headerRefs = (names: string[]) => Object.fromEntries(names.map((n) => [n, { $ref: `#/components/headers/${n}` }]))

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: { type: 'string', description: 'A readable sentence (names the field for validation errors)' },
    code: { type: 'string', description: 'Stable snake_case code, e.g. validation_failed, not_found, rate_limited' },
    details: { type: 'object', additionalProperties: { type: 'string' }, description: 'Per-field problems (validation errors)' },
  },
}

const STANDARD: Record<string, { name: string; description: string }> = {
  400: { name: 'BadRequest', description: 'Invalid input: validation_failed (details name the fields), invalid_json, json_too_deep' },
  401: { name: 'Unauthorized', description: 'No credential, or an invalid or expired one' },
  402: { name: 'PaymentRequired', description: 'Wallet empty or quota used up (AGENTBASE_BILLING=on)' },
  403: { name: 'Forbidden', description: 'Authenticated but not allowed (the message names the missing scope or role)' },
  404: { name: 'NotFound', description: 'Missing, or not yours (identical answers)' },
  409: { name: 'Conflict', description: 'Conflicts with an existing resource' },
  413: { name: 'PayloadTooLarge', description: 'Body over the route\'s limit (1 MB unless stated)' },
  415: { name: 'UnsupportedMediaType', description: 'A Content-Type the route does not accept' },
  422: { name: 'Unprocessable', description: 'Well-formed but cannot be processed' },
  429: { name: 'TooManyRequests', description: 'Rate limited or queue full: retry after Retry-After seconds' },
  500: { name: 'InternalError', description: 'Unexpected failure (the message carries the request id)' },
  502: { name: 'UpstreamFailed', description: 'An upstream (LLM, platform, tool) failed' },
  503: { name: 'Unavailable', description: 'Temporarily unavailable' },
  504: { name: 'UpstreamTimeout', description: 'An upstream timed out' },
}

function standardResponses(): Json {
  const out: Json = {}
  for (const [status, s] of Object.entries(STANDARD)) {
    out[s.name] = {
      description: s.description,
      headers: headerRefs(status === '429' ? [...COMMON_HEADERS, 'Retry-After'] : COMMON_HEADERS),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    }
  }
  return out
}

const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
const pathParams = (path: string) => [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1])

function operationId(method: string, path: string, taken: Set<string>): string {
  const words = path.split('/').filter(Boolean).map((seg) => (seg.startsWith(':') ? `By_${seg.slice(1)}` : seg))
  const camel = [method, ...words].map((w, i) => w.split(/[^A-Za-z0-9]+/).filter(Boolean).map((p, j) => (i === 0 && j === 0 ? p.toLowerCase() : p[0].toUpperCase() + p.slice(1))).join('')).join('')
  let id = camel
  for (let n = 2; taken.has(id); n++) id = `${camel}${n}`
  taken.add(id)
  return id
}

function parameters(route: RouteLike): Json[] {
  const out: Json[] = []
  const params = route.hooks.params?.properties ?? {}
  for (const name of pathParams(route.path)) {
    out.push({ name, in: 'path', required: true, schema: cleanSchema(params[name] ?? { type: 'string' }) })
  }
  for (const [where, schema] of [['query', route.hooks.query], ['header', route.hooks.headers]] as const) {
    const props = schema?.properties ?? {}
    const required = new Set<string>(schema?.required ?? [])
    for (const [name, s] of Object.entries(props)) {
      const clean = cleanSchema(s)
      const p: Json = { name, in: where, required: required.has(name), schema: clean }
      if (clean.description) p.description = clean.description
      out.push(p)
    }
  }
  return out
}

/** The media type of a response schema: SSE and Prometheus text are strings described as such. */
function responseMedia(schema: Json): string {
  if (schema.type !== 'string') return 'application/json'
  return /event-stream|SSE/i.test(schema.description ?? '') ? 'text/event-stream' : 'text/plain'
}

const SUCCESS_TEXT: Record<string, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content' }

function responses(route: RouteLike, o: { body: boolean; auth: boolean; maybeAuth: boolean }): Json {
  const declared: Json = isSchema(route.hooks.response) ? { 200: route.hooks.response } : route.hooks.response ?? {}
  const out: Json = {}
  for (const [status, raw] of Object.entries(declared)) {
    if (Number(status) >= 400 && STANDARD[status]) { out[status] = { $ref: `#/components/responses/${STANDARD[status].name}` }; continue }
    const schema = cleanSchema(raw)
    const r: Json = { description: schema.description ?? SUCCESS_TEXT[status] ?? 'Response', headers: headerRefs(COMMON_HEADERS) }
    if (status !== '204') r.content = { [responseMedia(schema)]: { schema } }
    out[status] = r
  }
  if (!Object.keys(out).some((s) => s.startsWith('2'))) out[200] = { description: 'OK', headers: headerRefs(COMMON_HEADERS) }
  // A route that answers either JSON or an SSE stream (`detail['x-streams']: '<when>'`) documents both.
  const streams = route.hooks.detail?.['x-streams']
  if (typeof streams === 'string' && out[200]?.content) {
    out[200].content['text/event-stream'] = { schema: { type: 'string', description: `Server-Sent Events (DESIGN §6), ${streams}` } }
  }
  const add = (status: number) => { out[status] ??= { $ref: `#/components/responses/${STANDARD[status].name}` } }
  const hasInput = o.body || route.hooks.query || route.hooks.params || route.hooks.headers
  if (hasInput) add(400)
  if (o.body) { add(413); add(415) }
  if (o.auth || o.maybeAuth) add(401)
  if (o.auth) add(403)
  if (pathParams(route.path).length) add(404)
  // Refusals a route's own rules give (`detail['x-errors']`: 402 spending caps, 409 conflicts), documented with the rest.
  for (const status of route.hooks.detail?.['x-errors'] ?? []) add(status)
  add(429)
  add(500)
  return out
}

export interface DocumentBase { info: Json; tags: Json[]; securitySchemes: Json }

export function buildOpenApi(routes: RouteLike[], base: DocumentBase): Json {
  const paths: Json = {}
  const taken = new Set<string>()
  const tags = new Map<string, Json>(base.tags.map((t) => [t.name, t]))
  for (const route of routes) {
    const method = route.method.toLowerCase()
    const detail = route.hooks?.detail ?? {}
    if (detail.hide === true || !METHODS.includes(method) || route.path.includes('*')) continue
    const security: Json[] | undefined = detail.security
    const auth = !!security?.length && security.every((s) => Object.keys(s).length > 0)
    const maybeAuth = !!security?.some((s) => Object.keys(s).length > 0)
    const op: Json = { operationId: detail.operationId ?? operationId(method, route.path, taken) }
    for (const key of ['summary', 'description', 'deprecated'] as const) if (detail[key] !== undefined) op[key] = detail[key]
    if (detail.tags?.length) {
      op.tags = [...detail.tags]
      for (const t of op.tags) if (!tags.has(t)) tags.set(t, { name: t, description: `${t} routes` })
    }
    op.security = security ?? [] // no auth macro: a public route (it may check a platform signature itself)
    const params = parameters(route)
    if (params.length) op.parameters = params
    const body = route.hooks.body
    if (body && method !== 'get' && method !== 'head') {
      const schema = cleanSchema(body)
      const media = [...acceptedKinds(route.hooks.type)].map((k) => MEDIA[k])
      op.requestBody = { required: !isOptionalSchema(body), content: Object.fromEntries(media.map((m) => [m, { schema: m === 'text/plain' ? { type: 'string' } : schema }])) }
    }
    op.responses = responses(route, { body: !!op.requestBody, auth, maybeAuth })
    ;(paths[openApiPath(route.path)] ??= {})[method] = op
  }
  // Only the shared responses and schemes some operation uses (unused components are noise to linters).
  const text = JSON.stringify(paths)
  const usedResponses = Object.fromEntries(Object.entries(standardResponses()).filter(([name]) => text.includes(`"#/components/responses/${name}"`)))
  const securitySchemes = Object.fromEntries(Object.entries(base.securitySchemes).filter(([name]) => text.includes(`"${name}":[]`)))
  return {
    openapi: '3.1.0',
    info: base.info,
    servers: [{ url: '/', description: 'This server' }],
    tags: [...tags.values()],
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      responses: usedResponses,
      headers: HEADERS,
      securitySchemes,
    },
  }
}
