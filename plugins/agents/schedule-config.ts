import { badRequest } from '../../src/http/errors'
import { iso } from '../../src/clock'
import { cronError, isValidZone, localIso } from '../../src/scheduler/calendar'
import type { ScheduleSpec } from '../../src/scheduler/types'
import type { ScheduleConfigInput } from './model'

const field = (name: string, msg: string) => badRequest(`schedule_config.${name} ${msg}`, { [`schedule_config.${name}`]: msg })

function time(name: string, v: string | null | undefined): number | null {
  if (v === undefined || v === null) return null
  const ms = Date.parse(v)
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(ms)) throw field(name, 'must be an ISO 8601 date-time such as 2026-03-08T09:00:00Z')
  return ms
}

/** Validates a schedule_config into the scheduler's spec; every refusal names its field. */
export function toSpec(c: ScheduleConfigInput): ScheduleSpec {
  const timezone = c.timezone ?? 'UTC'
  if (!isValidZone(timezone)) throw field('timezone', `"${timezone}" is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`)
  let intervalMs: number | null = null
  let cron: string | null = null
  if (c.type === 'interval') {
    if (c.interval_seconds === undefined) throw field('interval_seconds', 'is required for an interval schedule')
    if (c.cron !== undefined) throw field('cron', 'belongs to cron schedules, not interval ones')
    intervalMs = c.interval_seconds * 1000
  } else {
    if (c.cron === undefined) throw field('cron', 'is required for a cron schedule')
    if (c.interval_seconds !== undefined) throw field('interval_seconds', 'belongs to interval schedules, not cron ones')
    const err = cronError(c.cron)
    if (err) throw field('cron', `"${c.cron}" is not a valid cron expression: ${err}`)
    cron = c.cron.trim().replace(/\s+/g, ' ')
  }
  const startAt = time('start_at', c.start_at)
  const endAt = time('end_at', c.end_at)
  if (startAt !== null && endAt !== null && endAt <= startAt) throw field('end_at', 'must be after start_at')
  const jitterMs = (c.jitter_seconds ?? 0) * 1000
  if (intervalMs !== null && jitterMs >= intervalMs) throw field('jitter_seconds', 'must be shorter than the interval')
  return {
    type: c.type, intervalMs, cron, timezone, startAt, endAt, jitterMs,
    overlap: c.overlap_policy ?? 'skip', catchup: c.catchup_policy ?? 'latest',
    catchupWindowMs: c.catchup_window_seconds ? c.catchup_window_seconds * 1000 : null, pauseAfterFailures: c.pause_after_failures ?? null,
  }
}

/** The normalised schedule_config shown back (defaults filled in). */
export const toConfig = (s: ScheduleSpec) => ({
  type: s.type, interval_seconds: s.intervalMs === null ? null : s.intervalMs / 1000, cron: s.cron, timezone: s.timezone,
  start_at: s.startAt === null ? null : iso(s.startAt), end_at: s.endAt === null ? null : iso(s.endAt), jitter_seconds: s.jitterMs / 1000,
  overlap_policy: s.overlap, catchup_policy: s.catchup, catchup_window_seconds: s.catchupWindowMs === null ? null : s.catchupWindowMs / 1000,
  pause_after_failures: s.pauseAfterFailures,
})

export const runTimes = (slots: number[], tz: string) => slots.map((ms) => ({ utc: iso(ms), local: localIso(ms, tz) }))
