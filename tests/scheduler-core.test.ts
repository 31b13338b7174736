import { afterEach, describe, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testApp, type TestApp } from './helpers'
import { ManualClock } from '../src/clock'
import { schedulerService } from '../src/scheduler/index'
import { CLAIM_LEAD_MS } from '../src/scheduler/fires'
import type { FireContext, ScheduleSpec } from '../src/scheduler/types'
import { createLogger } from '../src/log'

const T0 = Date.parse('2026-05-04T10:00:00Z')
const spec = (s: Partial<ScheduleSpec>): ScheduleSpec => ({
  type: 'interval', intervalMs: 60_000, cron: null, timezone: 'UTC', startAt: null, endAt: null, jitterMs: 0,
  overlap: 'skip', catchup: 'latest', catchupWindowMs: null, pauseAfterFailures: null, ...s,
})

/** A handler that records every fire and finishes when the test says so (or at once). */
function recorder() {
  const calls: FireContext[] = []
  const pending: Array<(ok: boolean) => void> = []
  let hold = false
  return {
    calls, pending,
    holdRuns(v: boolean) { hold = v },
    finishAll(ok = true) { for (const p of pending.splice(0)) p(ok) },
    handler: {
      run(ctx: FireContext) {
        calls.push(ctx)
        if (!hold) return Promise.resolve({ ok: true })
        return new Promise<{ ok: boolean; error?: string }>((res) => {
          pending.push((ok) => res(ok ? { ok } : { ok, error: 'boom' }))
          ctx.signal.addEventListener('abort', () => res({ ok: false, error: 'aborted' }))
        })
      },
    },
  }
}

let t: TestApp
afterEach(() => t?.close())

function setup(logLines?: string[]) {
  const clock = new ManualClock(T0)
  t = testApp({ clock, log: logLines ? createLogger('error', (l) => logLines.push(l)) : undefined })
  const svc = schedulerService(t.k)
  const rec = recorder()
  svc.scheduler.handle('test', rec.handler)
  svc.scheduler.reconcile() // boot without the housekeeping jobs: only this file's schedules fire
  return { clock, svc, s: svc.scheduler, rec }
}

const slots = (rec: ReturnType<typeof recorder>) => rec.calls.map((c) => new Date(c.slot).toISOString())
const fires = (id: string) => t.k.db.query<{ slot: number; status: string; kind: string }, [string]>('SELECT slot, status, kind FROM schedule_fires WHERE schedule_id = ? ORDER BY slot').all(id)

/**
 * A new process on the database as this one left it (a crash): the committed state copied to a fresh data dir
 * (the data dir's lock is held until this process ends, as it would be by a live server), its scheduler reconciled.
 */
async function restartedCopy(clock: ManualClock, prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.k.db.query('VACUUM INTO ?').run(join(dir, 'agentbase.db'))
  copyFileSync(join(t.dir, 'master.key'), join(dir, 'master.key'))
  const { createKernel } = await import('../src/kernel')
  const { loadConfig } = await import('../src/config')
  const k2 = createKernel(loadConfig({ AGENTBASE_DATA_DIR: dir, LOG_LEVEL: 'silent', AGENTBASE_SYNC: 'normal' }), { clock })
  const s2 = schedulerService(k2).scheduler
  const rec2 = recorder()
  s2.handle('test', rec2.handler)
  s2.reconcile()
  return { k2, s2, rec2, close: () => { k2.close(); rmSync(dir, { recursive: true, force: true }) } }
}

describe('scheduler core', () => {
  test('interval: fires each slot once, persists next_run_at, never twice for a slot', async () => {
    const { clock, s, rec } = setup()
    const row = s.create({ name: 'a', handler: 'test', spec: spec({}) })
    expect(row.next_run_at).toBe(T0 + 60_000)
    clock.advance(59_000)
    expect(s.tick()).toBe(0)
    clock.advance(1000)
    expect(s.tick()).toBe(1)
    expect(s.tick()).toBe(0) // same instant: the slot was handled
    await s.idle()
    clock.advance(60_000)
    s.tick()
    await s.idle()
    expect(slots(rec)).toEqual(['2026-05-04T10:01:00.000Z', '2026-05-04T10:02:00.000Z'])
    const r = s.get(row.id)!
    expect(r.next_run_at).toBe(T0 + 180_000)
    expect(r.fire_count).toBe(2)
    expect(fires(row.id).map((f) => f.status)).toEqual(['succeeded', 'succeeded'])
    // The unique (schedule, slot) key refuses a second record of a slot even if next_slot were rewound.
    t.k.db.query('UPDATE schedules SET next_slot = ?, next_run_at = ? WHERE id = ?').run(T0 + 120_000, T0 + 120_000, row.id)
    expect(s.tick()).toBe(0)
    expect(rec.calls.length).toBe(2)
  })

  test('jitter delays the run within the window but keys the fire by its slot', async () => {
    const { clock, s, rec } = setup()
    const row = s.create({ name: 'j', handler: 'test', spec: spec({ jitterMs: 30_000 }) })
    expect(row.next_slot).toBe(T0 + 60_000)
    expect(row.next_run_at! - row.next_slot!).toBeGreaterThanOrEqual(0)
    expect(row.next_run_at! - row.next_slot!).toBeLessThan(30_000)
    clock.set(row.next_run_at!)
    expect(s.tick()).toBe(1)
    await s.idle()
    expect(rec.calls[0].slot).toBe(T0 + 60_000)
  })

  test('start_at and end_at bound the slots; a schedule past end_at ends', async () => {
    const { clock, s, rec } = setup()
    const row = s.create({ name: 'b', handler: 'test', spec: spec({ startAt: T0 + 600_000, endAt: T0 + 720_000 }) })
    expect(row.next_slot).toBe(T0 + 600_000)
    for (let i = 0; i < 5; i++) { clock.advance(300_000); s.tick(); await s.idle() }
    expect(slots(rec)).toEqual(['2026-05-04T10:10:00.000Z', '2026-05-04T10:11:00.000Z'].slice(0, rec.calls.length))
    expect(s.get(row.id)!.status).toBe('ended')
  })

  test('overlap skip / buffer_one / buffer_all / cancel_other / allow_all with a run longer than the interval', async () => {
    const expectations: Record<string, { started: number; skipped: number; statuses: string[] }> = {
      skip: { started: 1, skipped: 2, statuses: ['succeeded', 'skipped', 'skipped'] },
      buffer_one: { started: 2, skipped: 1, statuses: ['succeeded', 'succeeded', 'skipped'] },
      buffer_all: { started: 3, skipped: 0, statuses: ['succeeded', 'succeeded', 'succeeded'] },
      cancel_other: { started: 3, skipped: 2, statuses: ['cancelled', 'cancelled', 'succeeded'] },
      allow_all: { started: 3, skipped: 0, statuses: ['succeeded', 'succeeded', 'succeeded'] },
    }
    for (const [policy, want] of Object.entries(expectations)) {
      const { clock, s, rec } = setup()
      rec.holdRuns(true)
      const row = s.create({ name: policy, handler: 'test', spec: spec({ overlap: policy as ScheduleSpec['overlap'] }) })
      for (let i = 0; i < 3; i++) { clock.advance(60_000); s.tick() }
      // Runs finish one by one; buffered ones start as the previous ends.
      for (let i = 0; i < 5; i++) { rec.finishAll(true); await Bun.sleep(1) }
      await s.idle()
      expect({ policy, started: rec.calls.length }).toEqual({ policy, started: want.started })
      expect({ policy, statuses: fires(row.id).map((f) => f.status) }).toEqual({ policy, statuses: want.statuses })
      expect({ policy, skipped: s.get(row.id)!.skipped_count }).toEqual({ policy, skipped: want.skipped })
      t.close()
    }
  })

  test('catch-up after downtime: none, latest, all (+ window); missed slots counted', async () => {
    const cases = [
      { catchup: 'none', window: null, fired: [], missed: 10 },
      { catchup: 'latest', window: null, fired: ['10:10'], missed: 9 },
      { catchup: 'latest', window: 30_000, fired: [], missed: 10 },
      { catchup: 'all', window: null, fired: ['10:01', '10:02', '10:03', '10:04', '10:05', '10:06', '10:07', '10:08', '10:09', '10:10'], missed: 0 },
      { catchup: 'all', window: 200_000, fired: ['10:08', '10:09', '10:10'], missed: 7 },
    ] as const
    for (const c of cases) {
      const missedHook: number[] = []
      const { clock, s, rec } = setup()
      s.handle('test', { ...rec.handler, missed: (_s, n) => { missedHook.push(n) } })
      const row = s.create({ name: 'c', handler: 'test', spec: spec({ catchup: c.catchup, catchupWindowMs: c.window }) })
      clock.advance(10 * 60_000 + 45_000) // "down" for 10 slots, back 45 s after the last one
      s.tick()
      for (let i = 0; i < 12; i++) { await s.idle(); await Bun.sleep(1) }
      expect({ c, fired: slots(rec).map((x) => x.slice(11, 16)) }).toEqual({ c, fired: [...c.fired] })
      expect({ c, missed: s.get(row.id)!.missed_count }).toEqual({ c, missed: c.missed })
      expect(missedHook).toEqual(c.missed ? [c.missed] : [])
      expect(s.get(row.id)!.next_slot).toBe(T0 + 11 * 60_000)
      t.close()
    }
  })

  test('pause counts nothing; resume applies the catch-up policy once', async () => {
    const { clock, s, rec } = setup()
    const row = s.create({ name: 'p', handler: 'test', spec: spec({ catchup: 'latest' }) })
    s.pause(row.id)
    clock.advance(30 * 60_000 + 20_000)
    expect(s.tick()).toBe(0)
    s.resume(row.id)
    expect(s.tick()).toBe(1)
    await s.idle()
    expect(s.tick()).toBe(0)
    expect(slots(rec)).toEqual(['2026-05-04T10:30:00.000Z'])
    expect(s.get(row.id)!.missed_count).toBe(29)
  })

  test('pause_after_failures pauses the schedule and tells the failing hook', async () => {
    const failing: Array<[number, boolean]> = []
    const { clock, s } = setup()
    s.handle('bad', { run: async () => ({ ok: false, error: 'nope' }), failing: (_s, n, paused) => { failing.push([n, paused]) } })
    const row = s.create({ name: 'f', handler: 'bad', spec: spec({ pauseAfterFailures: 2 }) })
    for (let i = 0; i < 4; i++) { clock.advance(60_000); s.tick(); await s.idle() }
    const r = s.get(row.id)!
    expect(r.status).toBe('paused')
    expect(r.paused_reason).toBe('failures')
    expect(r.consecutive_failures).toBe(2)
    expect(r.last_error).toBe('nope')
    expect(failing).toEqual([[2, true]])
    expect(fires(row.id).length).toBe(2)
  })

  test('manual fires follow the overlap policy and are marked manual', async () => {
    const { clock, s, rec } = setup()
    rec.holdRuns(true)
    const row = s.create({ name: 'm', handler: 'test', spec: spec({ overlap: 'skip' }) })
    const a = s.fireManual(row.id, { x: 1 })
    expect(a.status).toBe('started')
    const b = s.fireManual(row.id, { x: 2 })
    expect(b.status).toBe('skipped')
    clock.advance(60_000)
    s.tick() // the scheduled slot is skipped too: the manual run is still going
    rec.finishAll(true)
    expect((await a.done)!.ok).toBe(true)
    expect(rec.calls.map((c) => [c.kind, c.input])).toEqual([['manual', { x: 1 }]])
    expect(fires(row.id).map((f) => [f.kind, f.status])).toEqual([['manual', 'succeeded'], ['manual', 'skipped'], ['scheduled', 'skipped']])
    expect(s.get(row.id)!.skipped_count).toBe(2)
  })

  test('reconcile after a crash: running fires become interrupted and never re-run; buffered ones run', async () => {
    const { clock, s, rec } = setup()
    rec.holdRuns(true)
    const row = s.create({ name: 'r', handler: 'test', spec: spec({ overlap: 'buffer_one' }) })
    clock.advance(60_000); s.tick()
    clock.advance(60_000); s.tick()
    expect(fires(row.id).map((f) => f.status)).toEqual(['running', 'buffered'])
    const { k2, s2, rec2, close } = await restartedCopy(clock, 'ab-sched-crash-')
    try {
      await s2.idle()
      const f = k2.db.query<{ status: string }, [string]>('SELECT status FROM schedule_fires WHERE schedule_id = ? ORDER BY slot').all(row.id)
      expect(f.map((x) => x.status)).toEqual(['interrupted', 'succeeded'])
      expect(rec2.calls.map((c) => c.slot)).toEqual([T0 + 120_000])
    } finally { close() }
  })

  test('the lease: one holder, fencing token bumps on takeover, a stale holder cannot fire', async () => {
    const { clock, s, rec } = setup()
    s.create({ name: 'l', handler: 'test', spec: spec({}) })
    clock.advance(60_000)
    s.tick()
    await s.idle()
    const token1 = s.lease.token!
    // Another instance (other host) takes the lease after it expired.
    clock.advance(120_000)
    t.k.db.query("UPDATE scheduler_lease SET holder = 'otherhost:1:abc', token = token + 1, expires_at = ? WHERE id = 1").run(clock.now() + 30_000)
    expect(s.tick()).toBe(0)
    expect(rec.calls.length).toBe(1)
    clock.advance(31_000) // the other holder's lease lapsed: ours again, with a new token
    expect(s.tick()).toBe(1)
    expect(s.lease.token).toBeGreaterThan(token1 + 1)
    await s.idle()
  })

  test('the watchdog logs at error level and fires what is overdue', async () => {
    const lines: string[] = []
    const { clock, svc, rec } = setup(lines)
    svc.scheduler.create({ name: 'w', handler: 'test', spec: spec({ catchup: 'latest' }) })
    clock.advance(5 * 60_000)
    expect(svc.watchdog.check().overdue).toBe(1)
    await svc.scheduler.idle()
    expect(rec.calls.length).toBe(1)
    expect(lines.some((l) => JSON.parse(l).level === 'error' && /overdue/.test(JSON.parse(l).msg))).toBe(true)
    expect(svc.watchdog.check().overdue).toBe(0)
  })

  describe('claims: fires recorded ahead of their slot', () => {
    const claimed = (id: string) => t.k.db.query<{ n: number }, [string]>("SELECT count(*) AS n FROM schedule_fires WHERE schedule_id = ? AND status = 'running' AND started_at IS NULL").get(id)!.n
    const burst = (s: ReturnType<typeof setup>['s'], n: number, extra: Partial<ScheduleSpec> = {}) =>
      Array.from({ length: n }, (_, i) => s.create({ name: `burst-${i}`, handler: 'test', spec: spec({ type: 'cron', intervalMs: null, cron: '*/5 * * * *', ...extra }) }).id)

    test('a burst is claimed before its slot, runs nothing early, then starts every fire at the slot, once; counters as before', async () => {
      const { clock, s, rec } = setup()
      const ids = burst(s, 250) // more than one claim batch
      const slot = Date.parse('2026-05-04T10:05:00Z')
      clock.set(slot - CLAIM_LEAD_MS + 100)
      for (let i = 0; i < 5 && (s.tick(), s.claimBacklog); i++) { /* the timer comes back at once while a scan has more */ }
      expect(rec.calls.length).toBe(0)
      expect(ids.every((id) => claimed(id) === 1)).toBe(true)
      clock.set(slot)
      expect(s.tick()).toBe(250)
      expect(rec.calls.every((c) => c.slot === slot && c.kind === 'scheduled')).toBe(true)
      await s.idle()
      expect(fires(ids[0])).toEqual([{ slot, status: 'succeeded', kind: 'scheduled' }])
      expect(s.get(ids[7])).toMatchObject({ fire_count: 1, missed_count: 0, last_slot: slot, next_slot: slot + 300_000, next_run_at: slot + 300_000 })
      expect(s.tick()).toBe(0) // never twice for a slot
      expect(rec.calls.length).toBe(250)
    })

    test('paused, edited or deleted after its claim: nothing runs at the slot from the claim; resumed, the normal path fires it once', async () => {
      const { clock, s, rec } = setup()
      const ids = burst(s, 16) // a slot shared by fewer schedules is not worth a claim
      const [paused, edited, deleted, kept] = ids
      const slot = Date.parse('2026-05-04T10:05:00Z')
      clock.set(slot - 200); s.tick()
      expect(ids.map(claimed)).toEqual(ids.map(() => 1))
      s.pause(paused)
      s.update(edited, spec({ type: 'cron', intervalMs: null, cron: '0 * * * *' }))
      s.remove(deleted)
      clock.set(slot); s.tick()
      expect(rec.calls.map((c) => c.scheduleId).sort()).toEqual(ids.slice(3).sort())
      expect(rec.calls.map((c) => c.scheduleId)).toContain(kept)
      expect([paused, edited].map(claimed)).toEqual([0, 0])
      s.resume(paused); s.tick() // resumed within the grace: its slot is still on time
      await s.idle()
      expect(rec.calls.at(-1)!.scheduleId).toBe(paused)
      expect(rec.calls.length).toBe(14)
      expect(fires(paused)).toEqual([{ slot, status: 'succeeded', kind: 'scheduled' }])
      expect(fires(edited)).toEqual([])
    })

    test('still running at its slot: the claim is dropped and the overlap policy decides (skip)', async () => {
      const { clock, s, rec } = setup()
      rec.holdRuns(true)
      const row = s.create({ name: 'slow', handler: 'test', spec: spec({ intervalMs: 1000 }) })
      for (let i = 0; i < 15; i++) s.create({ name: `same-slots-${i}`, handler: 'other', spec: spec({ intervalMs: 1000 }) }) // a slot worth claiming
      s.handle('other', { run: () => Promise.resolve({ ok: true }) })
      clock.set(T0 + 1000); s.tick() // first fire, held running
      expect(rec.calls.length).toBe(1)
      clock.set(T0 + 1600); s.tick() // claims the 2 s slot of the 15 idle ones; this one is busy: not claimed
      expect(claimed(row.id)).toBe(0)
      clock.set(T0 + 2000); s.tick() // overlap: skipped
      expect(fires(row.id).map((f) => f.status)).toEqual(['running', 'skipped'])
      rec.finishAll()
      await s.idle()
      clock.set(T0 + 2600); s.tick() // claims the 3 s slot while idle
      expect(claimed(row.id)).toBe(1)
      s.fireManual(row.id, null) // then a manual fire starts and is still running at the slot
      clock.set(T0 + 3000); s.tick()
      expect(fires(row.id).filter((f) => f.slot === T0 + 3000)).toEqual([{ slot: T0 + 3000, status: 'skipped', kind: 'scheduled' }])
      expect(claimed(row.id)).toBe(0)
      rec.finishAll()
      await s.idle()
    })

    test('a claim left by a stopped process is dropped at start-up; its slot fires once, by the normal path', async () => {
      const { clock, s, rec } = setup()
      const [id, ...others] = burst(s, 16)
      const slot = Date.parse('2026-05-04T10:05:00Z')
      clock.set(slot - 300); s.tick()
      expect(claimed(id)).toBe(1)
      clock.set(slot + 2000) // back up two seconds after the slot
      const { k2, s2, rec2, close } = await restartedCopy(clock, 'ab-sched-claim-')
      try {
        expect(k2.db.query("SELECT count(*) AS n FROM schedule_fires WHERE status = 'running' AND started_at IS NULL").get()).toEqual({ n: 0 })
        s2.tick()
        await s2.idle()
        expect(rec2.calls.filter((c) => c.scheduleId === id).map((c) => [c.slot, c.kind])).toEqual([[slot, 'scheduled']])
        expect(rec2.calls.length).toBe(1 + others.length)
        expect(k2.db.query<{ status: string }, [string]>('SELECT status FROM schedule_fires WHERE schedule_id = ?').all(id)).toEqual([{ status: 'succeeded' }])
      } finally { close() }
      expect(rec.calls.length).toBe(0)
    })
  })
})
