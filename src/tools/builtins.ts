import type { Kernel } from '../kernel'
import type { ToolContext, ToolDefinition, ToolResult, ToolSet } from '../agent/types'
import { safeFetch } from './outbound'
import { outboundLimits } from './outbound-limits'
import { binaryResult, TOOL_FILE_MAX_BYTES } from './binary'

/** Built-in tools every agent may use: `http_request` (through the outbound guard) and `current_time`. */

export const HTTP_TOOL_MAX_BYTES = 64 * 1024
export const HTTP_TOOL_TIMEOUT_MS = 15_000
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const
/** Headers a tool call may not set: they belong to the transport. */
const FORBIDDEN_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'upgrade'])

export const BUILTIN_TOOLS: ToolDefinition[] = [
  {
    name: 'http_request',
    description: 'Make an HTTP request to a public URL and return the status, content type and body (text is cut at 64 KB; a non-text body is kept aside, up to 10 MB, and summarized). Private and internal addresses are refused.',
    inputSchema: {
      type: 'object',
      properties: {
        method: { type: 'string', enum: [...METHODS], description: 'HTTP method, default GET' },
        url: { type: 'string', description: 'Absolute http(s) URL' },
        headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Request headers' },
        body: { type: 'string', description: 'Request body (send JSON as a string with a content-type header)' },
      },
      required: ['url'],
      additionalProperties: false,
    },
    source: 'builtin',
  },
  {
    name: 'current_time',
    description: 'The current date and time, in UTC and in an IANA time zone (for example Europe/Berlin).',
    inputSchema: {
      type: 'object',
      properties: { timezone: { type: 'string', description: 'IANA time zone name, default UTC' } },
      additionalProperties: false,
    },
    source: 'builtin',
  },
]

async function httpRequest(k: Kernel, args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> {
  const method = String(args.method ?? 'GET').toUpperCase()
  if (!(METHODS as readonly string[]).includes(method)) return { content: `Method ${method} is not allowed; use ${METHODS.join(', ')}`, isError: true }
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries((args.headers as Record<string, unknown>) ?? {})) {
    if (!FORBIDDEN_HEADERS.has(name.toLowerCase())) headers[name] = String(value)
  }
  const body = args.body === undefined || method === 'GET' || method === 'HEAD' ? undefined : String(args.body)
  const res = await safeFetch(k.outbound, String(args.url), { method, headers, body }, {
    timeoutMs: HTTP_TOOL_TIMEOUT_MS, maxBytes: HTTP_TOOL_MAX_BYTES, binaryMaxBytes: TOOL_FILE_MAX_BYTES, signal: ctx.signal, slot: { limiter: outboundLimits(k), owner: ctx.ownerId },
  })
  if (res.binary) return binaryResult(res, res.binary)
  const type = res.headers.get('content-type') ?? ''
  const note = res.truncated ? `\n[body truncated at ${HTTP_TOOL_MAX_BYTES} bytes]` : ''
  return {
    content: `HTTP ${res.status}${type ? ` (${type})` : ''}\n${res.body}${note}`,
    data: { status: res.status, content_type: type || null, body: res.body, truncated: res.truncated, url: res.url },
  }
}

function currentTime(k: Kernel, args: Record<string, unknown>): ToolResult {
  const zone = typeof args.timezone === 'string' && args.timezone.trim() ? args.timezone.trim() : 'UTC'
  let fmt: Intl.DateTimeFormat
  try {
    fmt = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
      hourCycle: 'h23', weekday: 'long', timeZoneName: 'longOffset',
    })
  } catch {
    return { content: `Unknown time zone "${zone}"; use an IANA name such as Europe/Berlin or America/New_York`, isError: true }
  }
  const now = new Date(k.clock.now())
  const p = Object.fromEntries(fmt.formatToParts(now).map((x) => [x.type, x.value]))
  const offset = p.timeZoneName === 'GMT' ? '+00:00' : String(p.timeZoneName).replace('GMT', '')
  const local = `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${offset}`
  const data = { utc: now.toISOString().replace(/\.\d{3}Z$/, 'Z'), timezone: zone, local, weekday: p.weekday, unix: Math.floor(now.getTime() / 1000) }
  return { content: `${local} (${p.weekday}, ${zone}); UTC ${data.utc}`, data }
}

export function builtinTools(k: Kernel): ToolSet {
  return {
    async list() { return BUILTIN_TOOLS },
    async call(name, args, ctx) {
      if (name === 'http_request') return httpRequest(k, args, ctx)
      if (name === 'current_time') return currentTime(k, args)
      return { content: `Unknown built-in tool "${name}"`, isError: true }
    },
  }
}
