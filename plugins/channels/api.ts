import { guardedFetch } from '../../src/tools/outbound'
import { ApiError } from '../../src/http/errors'
import { parseRetryAfter } from '../../src/http/retry'

/** A platform API answered with an error (or could not be reached). `status` is the HTTP status (0: network). */
export class PlatformError extends Error {
  constructor(readonly platform: string, readonly status: number, message: string, readonly retryAfterMs?: number) {
    super(message)
  }
  /** Worth retrying: network failures, 429 and 5xx. */
  get retryable() { return this.status === 0 || this.status === 429 || this.status >= 500 }
  toApiError() {
    return new ApiError(this.status === 0 ? 504 : 502, `${this.platform} API refused the request: ${this.message}`, 'platform_error')
  }
}

export interface CallResult { status: number; json: any; retryAfter?: string | null }

/**
 * Calls a platform API (operator-configured base URL, never a user-supplied one) with a timeout and a
 * capped body. Returns the parsed JSON answer and status; network failures become PlatformError(0).
 */
export async function callApi(platform: string, url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown }, timeoutMs = 10_000): Promise<CallResult> {
  const headers: Record<string, string> = { ...init.headers }
  let body: string | undefined
  if (init.body !== undefined) {
    body = JSON.stringify(init.body)
    headers['content-type'] = 'application/json'
  }
  let res: Response
  try {
    // The one outbound client; the platform base is the operator's (no guard), and a redirect is never followed.
    res = await guardedFetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body }, { guard: null, signal: AbortSignal.timeout(timeoutMs) })
  } catch (err) {
    const name = (err as Error).name
    throw new PlatformError(platform, 0, name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : 'unreachable')
  }
  const text = (await res.text()).slice(0, 1024 * 1024)
  let json: any = null
  try { json = text ? JSON.parse(text) : null } catch { json = null }
  return { status: res.status, json, retryAfter: res.headers.get('retry-after') }
}

/** Retry-After (a header, or Telegram's parameters.retry_after seconds) in ms, capped at a minute (src/http/retry.ts). */
export function retryAfterMs(seconds: unknown): number | undefined {
  const v = typeof seconds === 'number' || typeof seconds === 'string' ? seconds : null
  return parseRetryAfter(v, Date.now(), 60_000) || undefined
}
