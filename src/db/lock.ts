import { Database } from 'bun:sqlite'
import { join } from 'node:path'

export class DataDirLockedError extends Error {}

export const LOCK_FILE = 'agentbase.lock'

/**
 * An exclusive lock on the data dir, held for the process's life: a second server (or a writing CLI
 * command) on the same data dir stops at once instead of writing the same database. It is SQLite's own
 * file lock on a tiny side file (EXCLUSIVE locking mode keeps it after the first write): portable, and
 * the operating system drops it when the process dies, even by SIGKILL, so it never goes stale.
 */
export function lockDataDir(dataDir: string): { release(): void } {
  const path = join(dataDir, LOCK_FILE)
  const db = new Database(path, { create: true })
  try {
    db.exec('PRAGMA busy_timeout = 0')
    db.exec('PRAGMA locking_mode = EXCLUSIVE')
    db.exec('PRAGMA journal_mode = DELETE')
    db.exec('BEGIN EXCLUSIVE')
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, since TEXT NOT NULL)')
    db.exec('DELETE FROM holder')
    db.query('INSERT INTO holder (pid, since) VALUES (?, ?)').run(process.pid, new Date().toISOString())
    db.exec('COMMIT')
  } catch (err) {
    db.close()
    if (/locked|busy/i.test(String((err as Error).message))) {
      throw new DataDirLockedError(`the data dir ${dataDir} is in use by another agentbase process (lock ${path}); stop it first, or point AGENTBASE_DATA_DIR (--data-dir) elsewhere`)
    }
    throw err
  }
  let released = false
  return { release() { if (!released) { released = true; db.close() } } }
}
