import type { Clock } from '../clock'
import { ApiError } from './errors'

export interface RateDecision { allowed: boolean; limit: number; remaining: number; reset: number; retryAfter: number }

interface Bucket { tokens: number; at: number; rpm: number }

/**
 * Token buckets keyed by principal or IP: capacity `rpm`, refilled continuously at rpm/60 per second.
 * In memory: one process owns the data (DESIGN §11); buckets idle past a minute are swept.
 */
export class RateLimiter {
  private buckets = new Map<string, Bucket>()
  private lastSweep = 0
  constructor(private clock: Clock) {}

  take(key: string, rpm: number, cost = 1): RateDecision {
    const now = this.clock.now()
    this.sweep(now)
    let b = this.buckets.get(key)
    if (!b || b.rpm !== rpm) b = { tokens: rpm, at: now, rpm }
    const perMs = rpm / 60000
    b.tokens = Math.min(rpm, b.tokens + (now - b.at) * perMs)
    b.at = now
    const allowed = b.tokens >= cost
    if (allowed) b.tokens -= cost
    this.buckets.set(key, b)
    const missing = rpm - b.tokens
    const retryAfter = allowed ? 0 : Math.max(1, Math.ceil((cost - b.tokens) / perMs / 1000))
    return {
      allowed,
      limit: rpm,
      remaining: Math.max(0, Math.floor(b.tokens)),
      reset: Math.ceil((now + missing / perMs) / 1000),
      retryAfter,
    }
  }

  reset(key: string) { this.buckets.delete(key) }

  private sweep(now: number) {
    if (now - this.lastSweep < 60000) return
    this.lastSweep = now
    for (const [k, b] of this.buckets) if (now - b.at > 60000) this.buckets.delete(k)
  }
}

export const rateHeaders = (d: RateDecision): Record<string, string> => ({
  'X-RateLimit-Limit': String(d.limit),
  'X-RateLimit-Remaining': String(d.remaining),
  'X-RateLimit-Reset': String(d.reset),
  ...(d.allowed ? {} : { 'Retry-After': String(d.retryAfter) }),
})

/** Takes from the bucket; writes the headers into `set`; throws 429 when empty. */
export function enforceRate(limiter: RateLimiter, set: { headers: Record<string, any> }, key: string, rpm: number, message = 'Rate limited: too many requests') {
  const d = limiter.take(key, rpm)
  const h = set.headers // written one by one: this runs on every authenticated request
  h['X-RateLimit-Limit'] = String(d.limit)
  h['X-RateLimit-Remaining'] = String(d.remaining)
  h['X-RateLimit-Reset'] = String(d.reset)
  if (!d.allowed) throw new ApiError(429, `${message}; retry in ${d.retryAfter} s`, 'rate_limited', undefined, rateHeaders(d))
  return d
}
