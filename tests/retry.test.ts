/** The one retry policy and Retry-After parser (src/http/retry.ts) that LLM calls, platform replies, deliveries and callbacks share. */
import { expect, test } from 'bun:test'
import { backoffDelay, nextDelay, parseRetryAfter, withJitter } from '../src/http/retry'

const now = Date.parse('2026-03-14T10:00:00Z')

test('Retry-After: seconds, decimals, HTTP dates, retry-after-ms, junk, caps', () => {
  expect(parseRetryAfter('2', now)).toBe(2000)
  expect(parseRetryAfter(' 1.5 ', now)).toBe(1500)
  expect(parseRetryAfter('Sat, 14 Mar 2026 10:00:05 GMT', now)).toBe(5000)
  expect(parseRetryAfter('Sat, 14 Mar 2026 09:00:00 GMT', now)).toBe(0) // in the past: at once
  expect(parseRetryAfter(new Headers({ 'retry-after-ms': '150', 'retry-after': '9' }), now)).toBe(150)
  expect(parseRetryAfter(new Headers({ 'retry-after': '9' }), now)).toBe(9000)
  expect(parseRetryAfter(7, now)).toBe(7000) // Telegram's parameters.retry_after
  for (const bad of [null, undefined, '', 'soon', '-3', new Headers()]) expect(parseRetryAfter(bad as never, now)).toBeNull()
  expect(parseRetryAfter('3600', now, 60_000)).toBe(60_000)
})

test('backoff: exponential, capped, jittered within its fraction; Retry-After wins when given', () => {
  expect([0, 1, 2, 3].map((r) => backoffDelay(r, { baseMs: 100, jitter: 0 }))).toEqual([100, 200, 400, 800])
  expect(backoffDelay(10, { baseMs: 100, maxMs: 1000, jitter: 0 })).toBe(1000)
  expect(backoffDelay(0, { baseMs: 100 }, () => 1)).toBe(120)
  expect(backoffDelay(0, { baseMs: 100 }, () => 0)).toBe(100)
  expect(withJitter(1000, 0.1, () => 0.5)).toBe(1050)
  expect(nextDelay(3, { baseMs: 100 }, 2500)).toBe(2500)
  expect(nextDelay(1, { baseMs: 100, jitter: 0 }, null)).toBe(200)
})
