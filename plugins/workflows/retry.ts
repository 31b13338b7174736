/** Retry schedules and durations. Pure functions: the engine passes its clock and random source. */
import type { RetryPolicy } from './types'

export const DEFAULT_RETRY: Required<Omit<RetryPolicy, 'retry_if'>> = { max_attempts: 1, backoff: 'exponential', initial_ms: 1000, max_ms: 60_000, jitter: true }

export const maxAttempts = (r: RetryPolicy | undefined) => Math.max(1, Math.min(10, r?.max_attempts ?? DEFAULT_RETRY.max_attempts))

/**
 * The wait before attempt `next` (2 = the first retry): constant = initial_ms; exponential = initial_ms *
 * 2^(next-2); capped at max_ms; jitter spreads it over [d*(1-j), d*(1+j)) using `random()` in [0,1).
 */
export function backoffMs(r: RetryPolicy | undefined, next: number, random: () => number = Math.random): number {
  const initial = r?.initial_ms ?? DEFAULT_RETRY.initial_ms
  const cap = r?.max_ms ?? DEFAULT_RETRY.max_ms
  const base = (r?.backoff ?? DEFAULT_RETRY.backoff) === 'constant' ? initial : initial * 2 ** Math.max(0, next - 2)
  const d = Math.min(base, cap)
  const j = r?.jitter === undefined ? 0.5 : r.jitter === true ? 0.5 : r.jitter === false ? 0 : r.jitter
  if (!j) return Math.round(d)
  return Math.round(Math.min(cap, d * (1 - j + 2 * j * random())))
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** "500ms", "30s", "5m", "2h", "1d", "1h30m" or ISO 8601 "PT1H30M" / "P1D" -> ms; null when unreadable. */
export function parseDuration(s: string): number | null {
  const t = s.trim()
  const iso = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(t)
  if (iso && t.length > 1 && !/T$/i.test(t)) {
    const [, d, h, m, sec] = iso
    return (Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(sec ?? 0)) * 1000
  }
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/gi)]
  if (!parts.length || parts.map((p) => p[0]).join('').replace(/\s/g, '') !== t.replace(/\s/g, '')) return null
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2].toLowerCase()], 0))
}
