import { ApiError } from './errors'
import { readCapped } from '../tools/outbound'

/**
 * The one platform HTTP client and the one PlatformError, for every call to a messaging or SaaS platform's API
 * (bot channels replying on Telegram/Slack/Discord/WhatsApp, connections' tools). Operator-configured base URLs
 * only: user-supplied URLs go through the outbound guard (src/tools/outbound.ts safeFetch) instead.
 */

/**
 * A platform answered with an error, refused our credentials (`auth`), or could not be reached (`status` 0).
 * `retryAfterMs` is what the platform asked us to wait (Retry-After, Telegram's retry_after).
 */
export class PlatformError extends Error {
  constructor(readonly platform: string, readonly status: number, message: string, readonly retryAfterMs?: number, readonly auth = false) {
    super(message)
  }

  /** A refusal with the platform's own message (no HTTP status to report): `auth` when the credentials were refused. */
  static refused(message: string, auth = false) { return new PlatformError('platform', 400, message, undefined, auth) }

  /** Worth retrying: network failures, 429 and 5xx. */
  get retryable() { return this.status === 0 || this.status === 429 || this.status >= 500 }

  toApiError() {
    return new ApiError(this.status === 0 ? 504 : 502, `${this.platform} API refused the request: ${this.message}`, 'platform_error')
  }
}

export interface PlatformResponse { status: number; ok: boolean; json: any; text: string; headers: Headers }

export interface PlatformRequest { method?: string; headers?: HeadersInit; json?: unknown; body?: BodyInit | null }

const MAX_BYTES = 1024 * 1024

/**
 * One request to a platform API: JSON in and out, a timeout, no redirects, a capped body. Network failures and
 * timeouts throw PlatformError(status 0, `timedOut` in the message); an HTTP error status is returned for the
 * caller to read the platform's own error. Never puts the URL in an error (Telegram's carries the bot token).
 */
export async function platformFetch(platform: string, url: string, init: PlatformRequest = {}, opts: { timeoutMs?: number; signal?: AbortSignal; maxBytes?: number; userAgent?: string } = {}): Promise<PlatformResponse> {
  const timeoutMs = opts.timeoutMs ?? 10_000
  const headers = new Headers(init.headers)
  let body = init.body ?? undefined
  if (init.json !== undefined) {
    body = JSON.stringify(init.json)
    if (!headers.has('content-type')) headers.set('content-type', 'application/json')
  }
  if (opts.userAgent && !headers.has('user-agent')) headers.set('user-agent', opts.userAgent)
  const timeout = AbortSignal.timeout(timeoutMs)
  let res: Response
  try {
    res = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual', signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout })
  } catch (err) {
    if (opts.signal?.aborted) throw err
    throw new PlatformError(platform, 0, timeout.aborted ? `timed out after ${timeoutMs} ms` : `unreachable (${(err as Error).message.replace(/https?:\/\/\S+/g, '<url>')})`)
  }
  const text = (await readCapped(res, opts.maxBytes ?? MAX_BYTES)).text
  let json: any = null
  try { json = text ? JSON.parse(text) : null } catch { json = null }
  return { status: res.status, ok: res.status >= 200 && res.status < 300, json, text, headers: res.headers }
}
