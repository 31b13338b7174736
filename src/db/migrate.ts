import type { Db } from './open'
import type { Migration } from '../../migrations/index'

export class MigrationError extends Error {}

function ensureTable(db: Db) {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)')
}

export function migrationStatus(db: Db, all: Migration[]) {
  // Read-only callers (migrate --status): a database without the table has applied nothing yet.
  const has = db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get()
  if (!has) return all.map((m) => ({ name: m.name, applied_at: null as string | null }))
  const applied = new Map(db.query<{ name: string; applied_at: string }, []>('SELECT name, applied_at FROM schema_migrations').all().map((r) => [r.name, r.applied_at]))
  return all.map((m) => ({ name: m.name, applied_at: applied.get(m.name) ?? null }))
}

/**
 * Applies pending migrations in order, each in its own transaction. Stops at the first failure.
 * They run with synchronous=NORMAL (one fsync per migration halved the start of a fresh instance):
 * each stays atomic, so a power cut can at worst undo the last ones, which then run again at start.
 */
export function migrate(db: Db, all: Migration[], now = () => new Date().toISOString()): string[] {
  ensureTable(db)
  const done = new Set(db.query<{ name: string }, []>('SELECT name FROM schema_migrations').all().map((r) => r.name))
  const pending = all.filter((m) => !done.has(m.name))
  if (!pending.length) return []
  const sync = db.query<{ synchronous: number }, []>('PRAGMA synchronous').get()!.synchronous
  db.exec('PRAGMA synchronous = NORMAL')
  const appliedNow: string[] = []
  try {
    for (const m of pending) {
      try {
        db.transaction(() => {
          db.exec(m.sql)
          db.query('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(m.name, now())
        })()
      } catch (err) {
        throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`)
      }
      appliedNow.push(m.name)
    }
  } finally {
    db.exec(`PRAGMA synchronous = ${Number(sync)}`)
  }
  return appliedNow
}
