import { Cron } from 'croner'
import type { ScheduleSpec } from './types'

/**
 * Calendar arithmetic for schedules. Croner computes cron times in a zone; no Cron object lives on:
 * parsed patterns are cached in a small bounded map (paused, no callback, so no timers) and shared by
 * every schedule with the same pattern and zone.
 *
 * Daylight saving (DESIGN §13): a local time the zone skips fires zero times that day (croner would move
 * a fixed-time job to the end of the gap; we drop that run), and a local time that repeats fires once
 * (croner runs wildcard patterns on both occurrences; we keep the first).
 */

/**
 * A Cron object holds ~80 KB (measured: Intl formatters per zone), so only the most recently used few are kept:
 * next runs are remembered apart (nextRuns), and a schedule computes its next slot once per fire.
 */
const CACHE_MAX = 32
const crons = new Map<string, Cron>()
const UTC_ZONES = new Set(['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT'])

function cronFor(pattern: string, timezone: string): Cron {
  const key = timezone + '\u0000' + pattern
  let c = crons.get(key)
  if (c) { crons.delete(key); crons.set(key, c); return c } // most recently used last
  // UTC as a fixed offset: croner then computes with Date's UTC fields instead of formatting through Intl, so a
  // server whose schedules are all UTC (the housekeeping jobs) never loads ICU's zone data (~5 MB of idle RSS).
  c = UTC_ZONES.has(timezone)
    ? new Cron(pattern, { utcOffset: 0, paused: true, mode: '5-or-6-parts' })
    : new Cron(pattern, { timezone, paused: true, mode: '5-or-6-parts' })
  if (crons.size >= CACHE_MAX) crons.delete(crons.keys().next().value!)
  crons.set(key, c)
  return c
}

const zones = new Map<string, Intl.DateTimeFormat>()
function wallFormat(tz: string) {
  let f = zones.get(tz)
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    zones.set(tz, f)
  }
  return f
}

/** Local wall time `YYYY-MM-DD HH:MM:SS` of an instant in a zone. */
export function wallTime(ms: number, tz: string): string {
  if (UTC_ZONES.has(tz)) return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ')
  const p: Record<string, string> = {}
  for (const part of wallFormat(tz).formatToParts(ms)) p[part.type] = part.value
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`
}

/** The zone's UTC offset in minutes at an instant. */
export function offsetMinutes(ms: number, tz: string): number {
  if (UTC_ZONES.has(tz)) return 0
  const w = wallTime(ms, tz)
  const asUtc = Date.parse(w.replace(' ', 'T') + 'Z')
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000)
}

export function isValidZone(tz: string): boolean {
  try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true } catch { return false }
}

/** Why a cron pattern is unusable, or null. Accepts 5 fields (minutes) or 6 (seconds first). */
export function cronError(pattern: string): string | null {
  const fields = pattern.trim().split(/\s+/)
  if (fields.length !== 5 && fields.length !== 6) return `must have 5 or 6 fields, got ${fields.length}`
  try {
    const c = new Cron(pattern, { paused: true, mode: '5-or-6-parts' })
    if (!c.nextRun(new Date(Date.UTC(2026, 0, 1)))) return 'never matches a date'
    return null
  } catch (err) {
    return (err as Error).message.replace(/^CronPattern: /, '')
  }
}

/** A cron run that croner moved out of a DST gap, or the second occurrence of a repeated local time. */
function dstReject(c: Cron, ms: number, tz: string): boolean {
  if (!c.match(new Date(ms))) return true // moved to the end of a gap: that local time did not exist
  const before = offsetMinutes(ms - 3 * 3600_000, tz)
  const now = offsetMinutes(ms, tz)
  if (before > now) {
    // Clocks went back within the last 3 hours: the same wall time may have happened already.
    const earlier = ms - (before - now) * 60_000
    if (offsetMinutes(earlier, tz) === before && wallTime(earlier, tz) === wallTime(ms, tz)) return true
  }
  return false
}

/** The first slot strictly after `afterMs` (or at/after start_at), or null when the schedule has ended. */
export function nextSlot(spec: ScheduleSpec, afterMs: number, anchorMs: number): number | null {
  let t: number
  if (spec.type === 'interval') {
    const iv = spec.intervalMs!
    const anchor = spec.startAt ?? anchorMs
    // Without start_at the first slot is one interval after the anchor; with it, start_at itself.
    const first = spec.startAt !== null ? anchor : anchor + iv
    t = afterMs < first ? first : first + (Math.floor((afterMs - first) / iv) + 1) * iv
  } else {
    let from = afterMs
    if (spec.startAt !== null && spec.startAt - 1 > from) from = spec.startAt - 1
    const next = nextCronRun(spec.cron!, spec.timezone, from)
    if (next === null) return null
    t = next
  }
  if (spec.endAt !== null && t >= spec.endAt) return null
  return t
}

const NEXT_MAX = 4096
const nextRuns = new Map<string, number | null>()

/**
 * The pattern's first run after `from` in the zone, daylight-saving rules applied. A pure function of its
 * arguments, remembered: schedules sharing a pattern and zone that come due together (every "*\/5 * * * *"
 * at :05) cost one croner walk between them instead of one each (croner's zone arithmetic formats dates
 * through Intl, ~100 us a call).
 */
function nextCronRun(pattern: string, tz: string, from: number): number | null {
  const key = tz + '\u0000' + pattern + '\u0000' + from
  const hit = nextRuns.get(key)
  if (hit !== undefined) return hit
  const c = cronFor(pattern, tz)
  const fixedOffset = UTC_ZONES.has(tz) // no daylight saving to apply
  let t: number | null = null
  for (let guard = 0; ; guard++) {
    const d = c.nextRun(new Date(from))
    if (!d) { t = null; break }
    t = d.getTime()
    if (fixedOffset || guard > 50 || !dstReject(c, t, tz)) break
    from = t
  }
  if (nextRuns.size >= NEXT_MAX) nextRuns.clear()
  nextRuns.set(key, t)
  return t
}

/**
 * Slots in (afterMs, untilMs], oldest first, and how many there are in all. At most `keep` of the newest
 * are returned (catch-up never needs more); counting stops at `countCap` for cron patterns.
 */
export function slotsBetween(spec: ScheduleSpec, afterMs: number, untilMs: number, anchorMs: number, keep: number, countCap = 100_000): { slots: number[]; total: number } {
  const slots: number[] = []
  let total = 0
  if (spec.type === 'interval') {
    const first = nextSlot(spec, afterMs, anchorMs)
    if (first === null || first > untilMs) return { slots, total }
    const iv = spec.intervalMs!
    const end = spec.endAt !== null ? Math.min(untilMs, spec.endAt - 1) : untilMs
    total = end < first ? 0 : Math.floor((end - first) / iv) + 1
    for (let i = Math.max(0, total - keep); i < total; i++) slots.push(first + i * iv)
    return { slots, total }
  }
  let t = afterMs
  for (;;) {
    const n = nextSlot(spec, t, anchorMs)
    if (n === null || n > untilMs) break
    total++
    slots.push(n)
    if (slots.length > keep) slots.shift()
    if (total >= countCap) break
    t = n
  }
  return { slots, total }
}

/** The next `n` slots after a time. */
export function nextSlots(spec: ScheduleSpec, afterMs: number, anchorMs: number, n: number): number[] {
  const out: number[] = []
  let t = afterMs
  while (out.length < n) {
    const s = nextSlot(spec, t, anchorMs)
    if (s === null) break
    out.push(s)
    t = s
  }
  return out
}

/** A jitter offset in [0, jitterMs) that is the same for a slot after a restart (FNV-1a of id and slot). */
export function jitterFor(scheduleId: string, slot: number, jitterMs: number): number {
  if (jitterMs <= 0) return 0
  let h = 0x811c9dc5
  const s = scheduleId + ':' + slot
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0 }
  return h % jitterMs
}

/** ISO 8601 local time with the zone's offset, e.g. 2026-03-08T03:00:00-04:00. */
export function localIso(ms: number, tz: string): string {
  const off = offsetMinutes(ms, tz)
  const sign = off < 0 ? '-' : '+'
  const a = Math.abs(off)
  return wallTime(ms, tz).replace(' ', 'T') + `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`
}
