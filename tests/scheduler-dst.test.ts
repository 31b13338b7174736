import { afterEach, describe, expect, test } from 'bun:test'
import { testApp, type TestApp } from './helpers'
import { ManualClock } from '../src/clock'
import { schedulerService } from '../src/scheduler/index'
import { Cron } from 'croner'
import { localIso, nextSlots, offsetMinutes, wallTime } from '../src/scheduler/calendar'
import type { ScheduleSpec } from '../src/scheduler/types'

const cron = (pattern: string, timezone: string): ScheduleSpec => ({
  type: 'cron', intervalMs: null, cron: pattern, timezone, startAt: null, endAt: null, jitterMs: 0,
  overlap: 'allow_all', catchup: 'none', catchupWindowMs: null, pauseAfterFailures: null,
})

let t: TestApp
afterEach(() => t?.close())

/** Runs the real scheduler over [from, to] by jumping the clock to each persisted next_run_at; returns local fire times. */
async function fireLocal(spec: ScheduleSpec, from: string, to: string): Promise<{ fired: string[]; preview: string[] }> {
  const clock = new ManualClock(Date.parse(from))
  t = testApp({ clock })
  const svc = schedulerService(t.k)
  const fired: number[] = []
  svc.scheduler.handle('dst', { run: async (c) => { fired.push(c.slot); return { ok: true } } })
  svc.scheduler.reconcile()
  const row = svc.scheduler.create({ name: 'dst', handler: 'dst', spec })
  const preview = nextSlots(spec, Date.parse(from), row.anchor_ms, 12).filter((s) => s <= Date.parse(to))
  for (;;) {
    const next = svc.scheduler.get(row.id)!.next_run_at
    if (next === null || next > Date.parse(to)) break
    clock.set(next)
    svc.scheduler.tick()
    await svc.scheduler.idle()
  }
  const tz = spec.timezone
  t.close()
  return { fired: fired.map((s) => localIso(s, tz)), preview: preview.map((s) => localIso(s, tz)) }
}

describe('daylight saving', () => {
  test('America/New_York 2026-03-08: 02:30 does not exist, that day fires zero times', async () => {
    const r = await fireLocal(cron('30 2 * * *', 'America/New_York'), '2026-03-07T00:00:00Z', '2026-03-10T12:00:00Z')
    expect(r.fired).toEqual(['2026-03-07T02:30:00-05:00', '2026-03-09T02:30:00-04:00', '2026-03-10T02:30:00-04:00'])
    expect(r.fired).toEqual(r.preview)
  })

  test('America/New_York 2026-03-08: every 30 minutes skips the missing hour', async () => {
    const r = await fireLocal(cron('*/30 * * * *', 'America/New_York'), '2026-03-08T06:10:00Z', '2026-03-08T08:10:00Z')
    expect(r.fired).toEqual(['2026-03-08T01:30:00-05:00', '2026-03-08T03:00:00-04:00', '2026-03-08T03:30:00-04:00', '2026-03-08T04:00:00-04:00'])
    expect(r.fired).toEqual(r.preview)
  })

  test('America/New_York 2026-11-01: 01:30 happens twice and fires once', async () => {
    const r = await fireLocal(cron('30 1 * * *', 'America/New_York'), '2026-10-31T12:00:00Z', '2026-11-02T12:00:00Z')
    expect(r.fired).toEqual(['2026-11-01T01:30:00-04:00', '2026-11-02T01:30:00-05:00'])
    expect(r.fired).toEqual(r.preview)
  })

  test('America/New_York 2026-11-01: every 30 minutes fires the repeated hour once', async () => {
    const r = await fireLocal(cron('*/30 * * * *', 'America/New_York'), '2026-11-01T04:10:00Z', '2026-11-01T07:40:00Z')
    expect(r.fired).toEqual(['2026-11-01T00:30:00-04:00', '2026-11-01T01:00:00-04:00', '2026-11-01T01:30:00-04:00', '2026-11-01T02:00:00-05:00', '2026-11-01T02:30:00-05:00'])
    expect(r.fired).toEqual(r.preview)
  })

  test('Europe/Berlin 2026-03-29: 02:30 does not exist, that day fires zero times', async () => {
    const r = await fireLocal(cron('30 2 * * *', 'Europe/Berlin'), '2026-03-28T00:00:00Z', '2026-03-30T12:00:00Z')
    expect(r.fired).toEqual(['2026-03-28T02:30:00+01:00', '2026-03-30T02:30:00+02:00'])
    expect(r.fired).toEqual(r.preview)
  })

  test('Europe/Berlin 2026-10-25: 02:30 happens twice and fires once; hourly has no double 02:00', async () => {
    const r = await fireLocal(cron('30 2 * * *', 'Europe/Berlin'), '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z')
    expect(r.fired).toEqual(['2026-10-25T02:30:00+02:00', '2026-10-26T02:30:00+01:00'])
    const h = await fireLocal(cron('0 * * * *', 'Europe/Berlin'), '2026-10-24T22:30:00Z', '2026-10-25T03:30:00Z')
    expect(h.fired).toEqual(['2026-10-25T01:00:00+02:00', '2026-10-25T02:00:00+02:00', '2026-10-25T03:00:00+01:00', '2026-10-25T04:00:00+01:00'])
    expect(h.fired).toEqual(h.preview)
  })

  test('6-field cron with seconds and several zones fire at their local times', async () => {
    const r = await fireLocal(cron('15 0 9 * * *', 'Asia/Tokyo'), '2026-06-01T00:00:00Z', '2026-06-02T12:00:00Z')
    expect(r.fired).toEqual(['2026-06-01T09:00:15+09:00', '2026-06-02T09:00:15+09:00'])
    const k = await fireLocal(cron('0 12 * * 1', 'Asia/Kolkata'), '2026-06-01T00:00:00Z', '2026-06-09T00:00:00Z')
    expect(k.fired).toEqual(['2026-06-01T12:00:00+05:30', '2026-06-08T12:00:00+05:30'])
  })
})

describe('UTC without Intl', () => {
  // UTC schedules run on croner's fixed offset and format wall times from Date: they must agree exactly with
  // croner and Intl in the zone 'UTC' (the path they replace), across month and year ends and leap days.
  test('next runs and wall times agree with the time-zone path', () => {
    const patterns = ['*/5 * * * *', '17 3 * * *', '7 * * * *', '0 0 29 2 *', '30 23 31 12 *', '0 12 * * 1-5', '15 0 9 * * *', '0 0 1 */3 *']
    const starts = ['2026-01-01T00:00:00Z', '2026-02-28T23:59:59Z', '2027-12-31T23:30:00Z', '2028-02-28T12:00:00Z']
    const intl = new Intl.DateTimeFormat('en-CA', { timeZone: 'UTC', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    for (const pattern of patterns) {
      const viaZone = new Cron(pattern, { timezone: 'UTC', paused: true, mode: '5-or-6-parts' })
      for (const start of starts) {
        const ours = nextSlots(cron(pattern, 'UTC'), Date.parse(start), 0, 6)
        const theirs = viaZone.nextRuns(6, new Date(start)).map((d) => d.getTime())
        expect(ours).toEqual(theirs)
        for (const ms of ours) {
          const p: Record<string, string> = {}
          for (const part of intl.formatToParts(ms)) p[part.type] = part.value
          expect(wallTime(ms + 999, 'Etc/UTC')).toBe(`${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`)
          expect(offsetMinutes(ms, 'UTC')).toBe(0)
        }
      }
    }
  })
})
