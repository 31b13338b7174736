import { PlatformError, platformFetch } from '../../src/http/platform'
import { parseRetryAfter } from '../../src/http/retry'

export { PlatformError }

export interface CallResult { status: number; json: any; retryAfter?: string | null }

/**
 * Calls a platform API (operator-configured base URL, never a user-supplied one) through the one platform client
 * (src/http/platform.ts). Returns the parsed JSON answer and status; network failures become PlatformError(0).
 */
export async function callApi(platform: string, url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown }, timeoutMs = 10_000): Promise<CallResult> {
  const res = await platformFetch(platform, url, { method: init.method, headers: init.headers, json: init.body }, { timeoutMs })
  return { status: res.status, json: res.json, retryAfter: res.headers.get('retry-after') }
}

/** Retry-After (a header, or Telegram's parameters.retry_after seconds) in ms, capped at a minute (src/http/retry.ts). */
export function retryAfterMs(seconds: unknown): number | undefined {
  const v = typeof seconds === 'number' || typeof seconds === 'string' ? seconds : null
  return parseRetryAfter(v, Date.now(), 60_000) || undefined
}
