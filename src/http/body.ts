import { ApiError } from './errors'
import { jsonTooDeep, tooDeep } from './json'
import { MEDIA, type BodyKind } from './routes'

export const DEFAULT_BODY_LIMIT = 1024 * 1024

/** Route-level body limits (method + route template) that differ from the 1 MB default. Static data. */
const routeLimits = new Map<string, number>()
export function setBodyLimit(method: string, route: string, bytes: number) { routeLimits.set(`${method} ${route}`, bytes) }
export const bodyLimitFor = (method: string, route: string) => routeLimits.get(`${method} ${route}`) ?? DEFAULT_BODY_LIMIT
export const largestBodyLimit = () => Math.max(DEFAULT_BODY_LIMIT, ...routeLimits.values())

const human = (bytes: number) => (bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)}MB` : `${Math.round(bytes / 1024)}KB`)
export const tooLarge = (limit: number) => new ApiError(413, `Request body too large (max ${human(limit)})`)

/** Reads the body, counting bytes as they arrive; stops reading as soon as the limit is passed. */
export async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length')
  if (declared && Number(declared) > limit) throw tooLarge(limit)
  if (!request.body) return new Uint8Array(0)
  // A body framed by Content-Length (checked above) is exactly that long: read it whole, natively. The
  // chunk-by-chunk count below is for chunked bodies; it cost ~10% of a small sync run's CPU in stream callbacks.
  if (declared && /^\d+$/.test(declared) && !request.headers.has('transfer-encoding')) return new Uint8Array(await request.arrayBuffer())
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > limit) {
      reader.cancel().catch(() => {})
      throw tooLarge(limit)
    }
    chunks.push(value)
  }
  if (chunks.length === 1) return chunks[0]
  const out = new Uint8Array(total)
  let at = 0
  for (const c of chunks) { out.set(c, at); at += c.byteLength }
  return out
}

/** The raw text of a parsed body, kept for signature checks (Slack, WhatsApp, Discord), on the Request itself. */
const RAW = Symbol('agentbase.raw-body')
type WithRaw = { [RAW]?: string }
export const rawBody = (request: Request) => (request as WithRaw)[RAW] ?? ''

const decoder = new TextDecoder()

/**
 * The global body parser, run under the route's byte limit. A route accepts JSON unless it declares more
 * (Elysia's `type` option: urlencoded form, plain text); any other Content-Type is refused with 415 before
 * a byte is read. JSON deeper than MAX_JSON_DEPTH is refused with 400 before JSON.parse.
 */
export async function parseBody(request: Request, contentType: string, limit: number, accepts: Set<BodyKind> = new Set(['json'])): Promise<unknown> {
  const type = contentType.split(';')[0].trim().toLowerCase()
  const kind: BodyKind | null = type === 'application/json' || type.endsWith('+json') ? 'json'
    : type === 'application/x-www-form-urlencoded' ? 'form'
    : type.startsWith('text/') ? 'text'
    : type === '' ? (accepts.has('text') ? 'text' : 'json') // no header: plain text where accepted, else JSON
    : null
  if (!kind || !accepts.has(kind)) {
    const wanted = accepts.size === 1 && accepts.has('json') ? 'JSON (Content-Type: application/json)' : [...accepts].map((k) => MEDIA[k]).join(', ')
    throw new ApiError(415, `Unsupported Content-Type "${type}": the body must be ${wanted}`)
  }
  const bytes = await readLimited(request, limit)
  const text = decoder.decode(bytes)
  ;(request as WithRaw)[RAW] = text
  if (kind === 'json') {
    // null, not undefined: undefined would hand the (already read) body to Elysia's default parser.
    if (text.trim() === '') return null
    if (jsonTooDeep(text)) throw tooDeep()
    try {
      return JSON.parse(text)
    } catch {
      throw new ApiError(400, 'Request body is not valid JSON', 'invalid_json')
    }
  }
  if (kind === 'form') return Object.fromEntries(new URLSearchParams(text))
  return text === '' ? null : text
}
