/**
 * The one retry policy and the one Retry-After parser, for everything we retry: LLM calls (src/llm/http.ts),
 * platform replies (channels), webhook deliveries (src/events) and run callbacks (agent endpoints).
 */

/**
 * A server's Retry-After as milliseconds from `now`: delta seconds (decimals accepted), an HTTP date, or
 * OpenAI's `retry-after-ms` when given Headers. Null when absent or unreadable; never negative; at most `capMs`.
 */
export function parseRetryAfter(value: Headers | string | number | null | undefined, now = Date.now(), capMs = Number.POSITIVE_INFINITY): number | null {
  let ms: number | null = null
  if (value instanceof Headers) {
    const exact = value.get('retry-after-ms')
    if (exact && /^\s*\d+(\.\d+)?\s*$/.test(exact)) ms = Number(exact)
    else return parseRetryAfter(value.get('retry-after'), now, capMs)
  } else if (typeof value === 'number') {
    ms = Number.isFinite(value) && value >= 0 ? value * 1000 : null
  } else if (value) {
    const s = value.trim()
    if (/^\d+(\.\d+)?$/.test(s)) ms = Number(s) * 1000
    else if (/[a-z]/i.test(s)) { // an HTTP date names its weekday and month
      const at = Date.parse(s)
      ms = Number.isNaN(at) ? null : at - now
    }
  }
  return ms === null ? null : Math.min(Math.max(0, ms), capMs)
}

export interface BackoffPolicy {
  /** The first wait. */
  baseMs: number
  /** Growth per retry (default 2). */
  factor?: number
  /** Upper bound of a wait before jitter (default none). */
  maxMs?: number
  /** Random extra of up to this fraction of the wait (default 0.2): retries of many clients spread out. */
  jitter?: number
}

/** `ms` plus up to `fraction` of it at random. */
export const withJitter = (ms: number, fraction = 0.2, random = Math.random) => Math.round(ms + ms * fraction * random())

/** The wait before retry number `retry` (0 for the first retry): exponential, capped, with jitter. */
export function backoffDelay(retry: number, p: BackoffPolicy, random = Math.random): number {
  const raw = p.baseMs * (p.factor ?? 2) ** Math.max(0, retry)
  return withJitter(Math.min(raw, p.maxMs ?? raw), p.jitter ?? 0.2, random)
}

/** The wait before the next try: the server's Retry-After when it gave one (never shorter than asked), else the backoff. */
export const nextDelay = (retry: number, p: BackoffPolicy, retryAfterMs: number | null | undefined, random = Math.random) =>
  retryAfterMs !== null && retryAfterMs !== undefined ? retryAfterMs : backoffDelay(retry, p, random)
