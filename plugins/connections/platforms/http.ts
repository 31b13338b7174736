import { ApiError } from '../../../src/http/errors'
import { toolSlug } from '../../../src/tools/workspace-tools'
import { binaryResult } from '../../../src/tools/binary'
import { PlatformError, platformRequest, snippet, str, type Config, type Platform, type PlatformContext, type PlatformTool } from './types'

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH'])
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g

interface Operation { name: string; description?: string; method: string; path: string; parameters?: Record<string, any> }

/** The base URL without a trailing slash; every request must stay under it. */
const baseOf = (config: Config) => String(config.base_url).replace(/\/+$/, '')

/** Joins base + relative path and refuses anything that leaves the base (.., another host, a scheme). */
function within(config: Config, path: string, query?: Record<string, unknown>): string {
  const base = new URL(baseOf(config) + '/')
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('//')) throw PlatformError.refused('path must be relative to the connection\'s base URL')
  const url = new URL(path.replace(/^\/+/, ''), base)
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) throw PlatformError.refused(`path "${path}" leaves the connection's base URL`)
  for (const [key, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null) url.searchParams.append(key, typeof v === 'object' ? JSON.stringify(v) : String(v))
  return url.toString()
}

function headersOf(config: Config, extra: Record<string, unknown> = {}) {
  const h: Record<string, string> = {}
  for (const [key, v] of Object.entries(extra)) if (!/^(host|content-length|connection|transfer-encoding)$/i.test(key)) h[key] = String(v)
  for (const [key, v] of Object.entries((config.headers as Record<string, string>) ?? {})) h[key] = v
  if (config.auth_value) h[config.auth_header || 'Authorization'] = config.auth_value
  return h
}

function opSchema(op: Operation) {
  if (op.parameters && typeof op.parameters === 'object') return op.parameters
  const names = [...op.path.matchAll(PLACEHOLDER)].map((m) => m[1])
  const properties: Record<string, unknown> = Object.fromEntries(names.map((n) => [n, { type: ['string', 'integer'], description: `Path parameter ${n}` }]))
  if (BODY_METHODS.has(op.method.toUpperCase())) properties.body = { type: 'object', description: 'JSON body' }
  else properties.query = { type: 'object', description: 'Query parameters' }
  return { type: 'object', properties, required: names }
}

async function send(ctx: PlatformContext, method: string, url: string, headers: Record<string, string>, body: unknown) {
  const res = await platformRequest(ctx, 'The HTTP API', url, { method, headers, ...(body !== undefined && BODY_METHODS.has(method) ? { json: body } : {}) }, { guard: true, binary: true })
  // A non-text body (an image, a PDF) is a file with a short reference, never bytes in the text.
  if (res.binary) return { ...binaryResult({ status: res.status, headers: res.headers!, url: res.url ?? url }, res.binary), ...(res.status >= 400 ? { isError: true } : {}) }
  return { content: `HTTP ${res.status}\n${res.text}`, isError: res.status >= 400, data: { status: res.status, body: res.json ?? res.text } }
}

export const httpPlatform: Platform = {
  id: 'http',
  name: 'HTTP API',
  description: 'Any REST API: a base URL and an auth header. Declared operations become one tool each; without them, one generic request tool bounded to the base URL.',
  docsUrl: 'https://developer.mozilla.org/en-US/docs/Web/HTTP/Overview',
  configSchema: {
    type: 'object',
    properties: {
      base_url: str('Base URL, e.g. https://api.example.com/v1 (passes the outbound guard)', { minLength: 1, maxLength: 2000, pattern: '^https?://' }),
      auth_header: str('Header carrying the credential (default Authorization)', { pattern: '^[A-Za-z0-9-]{1,100}$' }),
      auth_value: str('Its value, e.g. "Bearer sk-..." (secret)', { maxLength: 4000 }),
      headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra headers sent on every request (secret)' },
      test_path: str('A GET path that must answer 2xx to prove the credentials (e.g. /me)'),
      operations: {
        type: 'array',
        maxItems: 50,
        items: {
          type: 'object',
          properties: {
            name: str('Tool name suffix, e.g. get_forecast', { pattern: '^[A-Za-z][A-Za-z0-9_]{0,40}$' }),
            description: str('What it does (shown to the model)', { maxLength: 1000 }),
            method: { type: 'string', enum: METHODS },
            path: str('Path under the base URL; {name} placeholders become arguments', { minLength: 1, maxLength: 1000 }),
            parameters: { type: 'object', description: 'JSON Schema of the arguments; path placeholders are taken from them, the rest become the query (GET/DELETE) or the JSON body' },
          },
          required: ['name', 'method', 'path'],
          additionalProperties: false,
        },
      },
    },
    required: ['base_url'],
    additionalProperties: false,
  },
  secretFields: ['auth_value', 'headers'],
  tools(config): PlatformTool[] {
    const ops = (config?.operations as Operation[] | undefined) ?? []
    if (ops.length) return ops.map((op) => ({ op: toolSlug(op.name), description: op.description || `${op.method.toUpperCase()} ${op.path}`, inputSchema: opSchema(op) }))
    return [{
      op: 'request',
      description: `Call the HTTP API${config?.base_url ? ` at ${baseOf(config)}` : ''}: method and a path relative to its base URL.`,
      inputSchema: {
        type: 'object',
        properties: {
          method: { type: 'string', enum: METHODS, description: 'Default GET' },
          path: str('Path relative to the base URL, e.g. /items/42', { minLength: 1, maxLength: 2000 }),
          query: { type: 'object', description: 'Query parameters' },
          body: { description: 'JSON body (POST, PUT, PATCH)' },
          headers: { type: 'object', additionalProperties: { type: 'string' } },
        },
        required: ['path'],
        additionalProperties: false,
      },
    }]
  },
  async check(ctx) {
    try { new URL(ctx.config.base_url) } catch { throw new ApiError(400, 'config.base_url is not a valid URL', 'invalid_config', { 'config.base_url': 'invalid URL' }) }
    await ctx.k.outbound.check(ctx.config.base_url)
  },
  async authenticate(ctx) {
    const path = ctx.config.test_path as string | undefined
    const res = await platformRequest(ctx, 'The HTTP API', path ? within(ctx.config, path) : baseOf(ctx.config), { headers: headersOf(ctx.config) }, { guard: true })
    if (res.status === 401 || res.status === 403 || (path && !res.ok) || res.status >= 500) {
      throw PlatformError.refused(`HTTP ${res.status}${res.text ? `: ${snippet(res.text, 200)}` : ''}`, res.status === 401 || res.status === 403)
    }
    return { account: { base_url: baseOf(ctx.config), status: res.status } }
  },
  async call(ctx, op, args) {
    if (op === 'request' && !(ctx.config.operations as Operation[] | undefined)?.length) {
      const method = String(args.method ?? 'GET').toUpperCase()
      return send(ctx, method, within(ctx.config, String(args.path), args.query), headersOf(ctx.config, args.headers ?? {}), args.body)
    }
    const decl = ((ctx.config.operations as Operation[]) ?? []).find((o) => toolSlug(o.name) === op)
    if (!decl) throw PlatformError.refused(`This HTTP connection has no operation "${op}"`)
    const method = decl.method.toUpperCase()
    const rest: Record<string, unknown> = { ...args }
    const path = decl.path.replace(PLACEHOLDER, (_, name: string) => {
      const v = rest[name]
      delete rest[name]
      if (v === undefined || v === null || v === '') throw PlatformError.refused(`argument "${name}" is required for the path`)
      return encodeURIComponent(String(v))
    })
    const declared = !!decl.parameters
    const query = declared ? (BODY_METHODS.has(method) ? undefined : rest) : (rest.query as Record<string, unknown> | undefined)
    const body = declared ? (BODY_METHODS.has(method) ? rest : undefined) : rest.body
    return send(ctx, method, within(ctx.config, path, query), headersOf(ctx.config), body)
  },
}
