import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Kernel } from '../kernel'
import type { Db } from '../db/open'
import { iso } from '../clock'
import { onBoot, scheduler } from './index'
import type { FireOutcome, ScheduleSpec } from './types'

const DAY = 86_400_000
const CHUNK = 5000

const spec = (s: Partial<ScheduleSpec>): ScheduleSpec => ({
  type: 'cron', intervalMs: null, cron: null, timezone: 'UTC', startAt: null, endAt: null, jitterMs: 0,
  overlap: 'skip', catchup: 'latest', catchupWindowMs: null, pauseAfterFailures: null, ...s,
})

const hasTable = (db: Db, name: string) =>
  !!db.query<{ x: number }, [string]>("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?").get(name)

/** Deletes in chunks so no single transaction holds the write lock for long. */
function chunked(db: Db, table: string, where: string, ...params: Array<string | number>): number {
  let total = 0
  for (;;) {
    const n = db.query(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${where} LIMIT ${CHUNK})`).run(...params).changes
    total += n
    if (n < CHUNK) return total
  }
}

/** Old finished runs, dispatched events, final webhook deliveries and the tool-call audit log. */
export function retention(k: Kernel): Record<string, number> {
  const h = k.config.housekeeping
  const now = k.clock.now()
  const cut = (days: number) => iso(now - days * DAY)
  const db = k.db
  const out: Record<string, number> = {}
  if (h.runsDays > 0) {
    const c = cut(h.runsDays)
    // The run service's table (its events cascade); endpoint_runs on databases from before it.
    if (hasTable(db, 'runs')) out.runs = chunked(db, 'runs', "created_at < ? AND status NOT IN ('queued', 'running')", c)
    if (hasTable(db, 'endpoint_runs')) out.endpoint_runs = chunked(db, 'endpoint_runs', "created_at < ? AND status NOT IN ('queued', 'running')", c)
    out.agent_runs = chunked(db, 'agent_runs', "started_at < ? AND status <> 'running'", c)
    out.schedule_fires = db.query("DELETE FROM schedule_fires WHERE finished_at < ? AND status NOT IN ('buffered', 'running')").run(now - h.runsDays * DAY).changes
  }
  if (h.eventsDays > 0) out.events = chunked(db, 'events', 'created_at < ? AND dispatched_at IS NOT NULL', cut(h.eventsDays))
  if (h.deliveriesDays > 0 && hasTable(db, 'webhook_deliveries')) out.webhook_deliveries = chunked(db, 'webhook_deliveries', "created_at < ? AND status <> 'pending'", cut(h.deliveriesDays))
  if (h.auditDays > 0 && hasTable(db, 'tool_calls')) out.tool_calls = chunked(db, 'tool_calls', 'created_at < ?', cut(h.auditDays))
  return out
}

/** Folds the WAL back into the database file and lets SQLite refresh its planner statistics. */
export function dbMaintenance(k: Kernel) {
  const cp = k.db.query<{ busy: number; log: number; checkpointed: number }, []>('PRAGMA wal_checkpoint(TRUNCATE)').get()
  k.db.exec('PRAGMA optimize')
  return { wal_checkpoint: cp }
}

/** A consistent copy (VACUUM INTO) in AGENTBASE_BACKUP_DIR; only the newest N copies are kept. */
export function backup(k: Kernel) {
  const dir = resolve(k.config.housekeeping.backupDir!)
  mkdirSync(dir, { recursive: true })
  const stamp = iso(k.clock.now()).replace(/[-:]/g, '')
  let file = join(dir, `agentbase-${stamp}.db`)
  for (let i = 1; existsSync(file); i++) file = join(dir, `agentbase-${stamp}-${i}.db`)
  k.db.query('VACUUM INTO ?').run(file)
  const copies = readdirSync(dir).filter((f) => /^agentbase-\d{8}T\d{6}Z(-\d+)?\.db$/.test(f)).sort()
  const removed = copies.slice(0, Math.max(0, copies.length - k.config.housekeeping.backupKeep))
  for (const f of removed) rmSync(join(dir, f), { force: true })
  return { file, kept: copies.length - removed.length, removed: removed.length }
}

export const SYSTEM_JOBS = ['system:retention', 'system:db-maintenance', 'system:backup'] as const

const job = (k: Kernel, name: string, fn: () => unknown) => ({
  async run(): Promise<FireOutcome> {
    const t0 = performance.now()
    try {
      const result = fn()
      k.log.info('housekeeping job done', { job: name, ms: Math.round(performance.now() - t0), result })
      return { ok: true, result }
    } catch (err) {
      k.log.error('housekeeping job failed', { job: name, error: (err as Error).message })
      return { ok: false, error: (err as Error).message }
    }
  },
})

/** The product's housekeeping as named system schedules (DESIGN §13), installed at boot. */
export function registerHousekeeping(k: Kernel) {
  const s = scheduler(k)
  s.handle('system.retention', job(k, 'retention', () => retention(k)))
  s.handle('system.db-maintenance', job(k, 'db-maintenance', () => dbMaintenance(k)))
  s.handle('system.backup', job(k, 'backup', () => backup(k)))
  onBoot(k, 'housekeeping', () => {
    s.ensure({ name: 'system:retention', handler: 'system.retention', system: true, spec: spec({ cron: '17 3 * * *' }) })
    s.ensure({ name: 'system:db-maintenance', handler: 'system.db-maintenance', system: true, spec: spec({ cron: '7 * * * *' }) })
    const hours = k.config.housekeeping.backupEveryHours
    const existing = k.db.query<{ id: string }, [string]>('SELECT id FROM schedules WHERE name = ?').get('system:backup')
    if (k.config.housekeeping.backupDir) s.ensure({ name: 'system:backup', handler: 'system.backup', system: true, spec: spec({ type: 'interval', intervalMs: hours * 3_600_000 }) })
    else if (existing) s.remove(existing.id) // backups were switched off
  })
}
