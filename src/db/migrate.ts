import type { Db } from './open'
import type { Migration } from '../../migrations/index'

export class MigrationError extends Error {}

function ensureTable(db: Db) {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)')
}

export function migrationStatus(db: Db, all: Migration[]) {
  ensureTable(db)
  const applied = new Map(db.query<{ name: string; applied_at: string }, []>('SELECT name, applied_at FROM schema_migrations').all().map((r) => [r.name, r.applied_at]))
  return all.map((m) => ({ name: m.name, applied_at: applied.get(m.name) ?? null }))
}

/** Applies pending migrations in order, each in its own transaction. Stops at the first failure. */
export function migrate(db: Db, all: Migration[], now = () => new Date().toISOString()): string[] {
  ensureTable(db)
  const done = new Set(db.query<{ name: string }, []>('SELECT name FROM schema_migrations').all().map((r) => r.name))
  const appliedNow: string[] = []
  for (const m of all) {
    if (done.has(m.name)) continue
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
  return appliedNow
}
