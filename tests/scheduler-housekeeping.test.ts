import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database } from 'bun:sqlite'
import { testApp, type TestApp } from './helpers'
import { ManualClock, iso } from '../src/clock'
import { schedulerService } from '../src/scheduler/index'

const T0 = Date.parse('2026-05-04T10:00:00Z')
const DAY = 86_400_000
let t: TestApp
let backups: string | null = null
afterEach(() => { t?.close(); if (backups) rmSync(backups, { recursive: true, force: true }); backups = null })

const count = (table: string) => t.k.db.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${table}`).get()!.n

describe('housekeeping on the scheduler', () => {
  test('system jobs are named schedules visible to admins at GET /api/admin/jobs; others get 403', async () => {
    backups = mkdtempSync(join(tmpdir(), 'ab-backups-'))
    const clock = new ManualClock(T0)
    t = testApp({ clock, env: { AGENTBASE_BACKUP_DIR: backups, AGENTBASE_BACKUP_KEEP: '2', AGENTBASE_BACKUP_EVERY_HOURS: '6' } })
    const admin = await t.user()
    const user = await t.user()
    schedulerService(t.k).boot()
    const r = await t.req('GET', '/api/admin/jobs', { token: admin.token })
    expect(r.status).toBe(200)
    expect(r.body.jobs.map((j: any) => j.name)).toEqual(['system:backup', 'system:db-maintenance', 'system:invoices', 'system:retention'])
    const byName = Object.fromEntries(r.body.jobs.map((j: any) => [j.name, j]))
    expect(byName['system:retention'].schedule).toEqual({ type: 'cron', cron: '17 3 * * *', interval_seconds: null, timezone: 'UTC' })
    expect(byName['system:retention'].next_run_at).toBe('2026-05-05T03:17:00Z')
    expect(byName['system:db-maintenance'].next_run_at).toBe('2026-05-04T10:07:00Z')
    expect(byName['system:backup'].schedule.interval_seconds).toBe(6 * 3600)
    expect(r.body.scheduler.holds_lease).toBe(true)
    expect(r.body.scheduler.fencing_token).toBeGreaterThanOrEqual(1)
    expect((await t.req('GET', '/api/admin/jobs', { token: user.token })).status).toBe(403)
    expect((await t.req('GET', '/api/admin/jobs')).status).toBe(401)
  })

  test('retention deletes old finished rows only, per configured days', async () => {
    const clock = new ManualClock(T0)
    t = testApp({ clock, env: { AGENTBASE_RETENTION_DAYS: '10', AGENTBASE_RETENTION_AUDIT_DAYS: '20' } })
    const u = await t.user()
    const old = iso(T0 - 15 * DAY)
    const recent = iso(T0 - 2 * DAY)
    const db = t.k.db
    for (const [id, at, dispatched] of [['evt_old', old, old], ['evt_old_pending', old, null], ['evt_new', recent, recent]] as const) {
      db.query("INSERT INTO events (id, seq, type, owner_id, data, created_at, dispatched_at) VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM events), 'webhook.test', ?, '{}', ?, ?)").run(id, u.id, at, dispatched)
    }
    for (const [id, at] of [['tc_old', iso(T0 - 25 * DAY)], ['tc_mid', old]] as const) {
      db.query("INSERT INTO tool_calls (id, owner_id, surface, tool, success, latency_ms, created_at) VALUES (?, ?, 'api', 'x', 1, 1, ?)").run(id, u.id, at)
    }
    for (const [id, status, at] of [['run_old', 'success', old], ['run_old_running', 'running', old], ['run_new', 'success', recent]] as const) {
      db.query("INSERT INTO runs (id, source, owner_id, mode, status, input, created_at) VALUES (?, 'endpoint', ?, 'sync', ?, 'x', ?)").run(id, u.id, status, at)
    }
    const evBefore = count('events')
    const { retention } = await import('../src/scheduler/housekeeping')
    const out = retention(t.k)
    expect(out.events).toBe(1)
    expect(out.tool_calls).toBe(1)
    expect(out.runs).toBe(1)
    expect(count('events')).toBe(evBefore - 1)
    expect(db.query<{ id: string }, []>("SELECT id FROM runs ORDER BY id").all().map((r) => r.id)).toEqual(['run_new', 'run_old_running'])
    expect(db.query<{ id: string }, []>("SELECT id FROM tool_calls").all().map((r) => r.id)).toEqual(['tc_mid'])
  })

  test('the jobs fire on the scheduler: db maintenance checkpoints the WAL, backups keep N copies', async () => {
    backups = mkdtempSync(join(tmpdir(), 'ab-backups-'))
    const clock = new ManualClock(T0)
    t = testApp({ clock, env: { AGENTBASE_BACKUP_DIR: backups, AGENTBASE_BACKUP_KEEP: '2', AGENTBASE_BACKUP_EVERY_HOURS: '1' } })
    const admin = await t.user()
    const svc = schedulerService(t.k)
    svc.boot()
    for (let h = 1; h <= 3; h++) {
      clock.set(T0 + h * 3_600_000)
      svc.scheduler.tick()
      await svc.scheduler.idle()
    }
    const files = readdirSync(backups).sort()
    expect(files).toEqual(['agentbase-20260504T120000Z.db', 'agentbase-20260504T130000Z.db'])
    // A copy holds every sealed secret and user: readable by the owner only, as the CLI's backups.
    for (const f of files) expect(statSync(join(backups, f)).mode & 0o777).toBe(0o600)
    const copy = new Database(join(backups, files[1]), { readonly: true })
    expect(copy.query<{ n: number }, []>('SELECT count(*) AS n FROM users').get()!.n).toBe(1)
    copy.close()
    const r = await t.req('GET', '/api/admin/jobs', { token: admin.token })
    const byName = Object.fromEntries(r.body.jobs.map((j: any) => [j.name, j]))
    expect(byName['system:backup'].fire_count).toBe(3)
    expect(byName['system:backup'].last_status).toBe('succeeded')
    expect(byName['system:db-maintenance'].fire_count).toBe(3)
    expect(byName['system:db-maintenance'].recent_fires[0]).toMatchObject({ status: 'succeeded', kind: 'catchup', slot: '2026-05-04T12:07:00Z', started_at: '2026-05-04T13:00:00Z' })
    expect(existsSync(join(t.dir, 'agentbase.db-wal'))).toBe(true)
  })
})
