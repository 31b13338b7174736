import { isIP } from '../ip-literal'
import { ApiError } from '../http/errors'
import { inCidr, isBlockedIp } from './ip'
import { hostKey, type OutboundLimiter } from './outbound-limits'
import { isTextType, type BinaryBody } from './binary'

// node:dns loads with the first outbound request, not at start-up.
let dnsModule: typeof import('node:dns/promises') | null = null
const dns = () => (dnsModule ??= require('node:dns/promises') as typeof import('node:dns/promises'))

/**
 * The one guard for everything fetched on a user's behalf (DESIGN §7): http(s) only; addresses that
 * resolve to private, loopback, link-local or metadata ranges are refused unless allowlisted.
 */
export class OutboundGuard {
  constructor(private allow: string[]) {}

  private allowedHost(host: string) {
    return this.allow.some((a) => !a.includes('/') && !isIP(a) && a.toLowerCase() === host.toLowerCase())
  }
  private allowedIp(ip: string) {
    return this.allow.some((a) => (a.includes('/') || isIP(a)) && inCidr(ip, a.includes('/') ? a : `${a}/${isIP(a) === 4 ? 32 : 128}`))
  }

  /** Throws a 400 ApiError explaining why the URL may not be fetched. Returns the parsed URL. */
  async check(raw: string): Promise<URL> {
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      throw new ApiError(400, `Invalid URL "${raw}"`, 'url_invalid')
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ApiError(400, `URL scheme "${url.protocol.replace(':', '')}" is not allowed; use http or https`, 'url_refused')
    const host = url.hostname.replace(/^\[|\]$/g, '')
    if (this.allowedHost(host)) return url
    let addresses: string[]
    if (isIP(host)) addresses = [host]
    else {
      try {
        addresses = (await dns().lookup(host, { all: true })).map((a) => a.address)
      } catch {
        throw new ApiError(400, `Could not resolve host "${host}"`, 'url_unresolvable')
      }
    }
    for (const ip of addresses) {
      if (isBlockedIp(ip) && !this.allowedIp(ip)) {
        throw new ApiError(400, `URL host "${host}" resolves to a private or reserved address (${ip}); add it to AGENTBASE_OUTBOUND_ALLOW to allow it`, 'url_refused')
      }
    }
    return url
  }

  /** Whether the host is explicitly allowlisted (lets local test servers use plain http). */
  isAllowlisted(raw: string): boolean {
    try {
      const host = new URL(raw).hostname.replace(/^\[|\]$/g, '')
      return this.allowedHost(host) || (isIP(host) !== 0 && this.allowedIp(host))
    } catch {
      return false
    }
  }
}

export const isRedirect = (status: number) => status >= 300 && status < 400

export interface GuardedFetchOptions {
  /** The guard for user-chosen URLs (every hop is checked after DNS resolution); null for operator-configured URLs. */
  guard: OutboundGuard | null
  /** GET redirects to follow, each re-checked by the guard (default 0: a 3xx is returned to the caller, never followed). */
  maxRedirects?: number
  signal?: AbortSignal
}

/**
 * The one outbound client for requests made on a user's behalf (SECURITY.md promise 4): `redirect: "manual"`
 * always, so nothing is ever fetched that the guard did not see. A redirect is followed only for GET, only within
 * `maxRedirects`, and only after the guard passed its target; otherwise the 3xx comes back for the caller to
 * refuse (its body unread: a refused hop's text never reaches anyone). Network errors propagate as thrown.
 */
export async function guardedFetch(url: string, init: RequestInit, o: GuardedFetchOptions): Promise<Response> {
  const maxRedirects = o.maxRedirects ?? 0
  const method = (init.method ?? 'GET').toUpperCase()
  let current = url
  for (let hop = 0; ; hop++) {
    if (o.guard) await o.guard.check(current)
    const res = await fetch(current, { ...init, redirect: 'manual', signal: o.signal })
    const location = res.headers.get('location')
    if (!isRedirect(res.status) || !location || hop >= maxRedirects || method !== 'GET' || !o.guard) return res
    await res.body?.cancel().catch(() => {})
    current = new URL(location, current).toString()
  }
}

export interface SafeFetchOptions {
  timeoutMs?: number
  maxBytes?: number
  maxRedirects?: number
  signal?: AbortSignal
  /** Whose behalf: the request holds one of the owner's outbound slots (src/tools/outbound-limits.ts) while it runs. */
  slot?: { limiter: OutboundLimiter; owner: string | null }
  /**
   * Keep a non-text body (src/tools/binary.ts isTextType) as bytes up to this many, instead of text cut at maxBytes.
   * A larger body is refused: unread when Content-Length says so, else dropped once the cap is passed.
   */
  binaryMaxBytes?: number
}

/** `binary` is set (and `body` empty) when binaryMaxBytes was given and the response is not text. */
export interface SafeResponse { status: number; headers: Headers; body: string; truncated: boolean; url: string; binary?: BinaryBody }

/** guardedFetch with a timeout, a capped body, and the owner's and host's fair share; redirects re-checked hop by hop. */
export async function safeFetch(guard: OutboundGuard, url: string, init: RequestInit = {}, opts: SafeFetchOptions = {}): Promise<SafeResponse> {
  const { timeoutMs = 15000, maxBytes = 256 * 1024, maxRedirects = 3 } = opts
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout
  const release = opts.slot ? await opts.slot.limiter.acquire({ owner: opts.slot.owner, host: hostKey(url), signal }) : null
  try {
    let res: Response
    try {
      res = await guardedFetch(url, init, { guard, maxRedirects, signal })
    } catch (err) {
      if (err instanceof ApiError) throw err
      if (timeout.aborted) throw new ApiError(504, `Request to ${new URL(url).host} timed out after ${timeoutMs} ms`)
      if (opts.signal?.aborted) throw err
      throw new ApiError(502, `Request to ${new URL(url).host} failed: ${(err as Error).message}`)
    }
    const finalUrl = res.url || url
    // HEAD has no body (its Content-Length describes the GET's): never a file, never "too large".
    const head = (init.method ?? 'GET').toUpperCase() === 'HEAD'
    if (opts.binaryMaxBytes !== undefined && res.body && !head && !isTextType(res.headers.get('content-type'))) {
      const binary = await readBinary(res, opts.binaryMaxBytes)
      if (!binary.bytes || binary.bytes.length) return { status: res.status, headers: res.headers, body: '', truncated: !binary.bytes, url: finalUrl, binary }
      return { status: res.status, headers: res.headers, body: '', truncated: false, url: finalUrl } // an empty body is no file
    }
    const { text, truncated } = await readCapped(res, maxBytes)
    return { status: res.status, headers: res.headers, body: text, truncated, url: finalUrl }
  } finally {
    release?.()
  }
}

/** A binary body up to maxBytes; over it (declared or read), null bytes and nothing more is read. */
async function readBinary(res: Response, maxBytes: number): Promise<BinaryBody> {
  const declared = Number(res.headers.get('content-length') ?? NaN)
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => {})
    return { bytes: null, size: declared }
  }
  const { bytes, truncated } = await readCappedBytes(res, maxBytes)
  return truncated ? { bytes: null, size: Number.isFinite(declared) ? declared : bytes.length } : { bytes, size: bytes.length }
}

export async function readCapped(res: Response, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  const { bytes, truncated } = await readCappedBytes(res, maxBytes)
  return { text: bytes.toString('utf8'), truncated }
}

/** The body's first maxBytes bytes; `truncated` when there was more (the rest is not read). */
export async function readCappedBytes(res: Response, maxBytes: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  if (!res.body) return { bytes: Buffer.alloc(0), truncated: false }
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  let truncated = false
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (total + value.byteLength > maxBytes) {
      chunks.push(value.subarray(0, maxBytes - total))
      truncated = true
      reader.cancel().catch(() => {})
      break
    }
    chunks.push(value)
    total += value.byteLength
  }
  return { bytes: Buffer.concat(chunks), truncated }
}
