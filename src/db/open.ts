import { Database } from 'bun:sqlite'

export type Db = Database

/** Opens the database with the pragmas of DESIGN §4. */
export function openDb(path: string, sync: 'full' | 'normal' = 'full'): Db {
  const db = new Database(path, { create: true, strict: true })
  db.exec('PRAGMA journal_mode = WAL')
  db.exec(`PRAGMA synchronous = ${sync === 'normal' ? 'NORMAL' : 'FULL'}`)
  db.exec('PRAGMA foreign_keys = ON')
  db.exec('PRAGMA busy_timeout = 5000')
  return db
}

/** Runs fn in a transaction; nested calls join the outer one (bun:sqlite uses savepoints). */
export function tx<T>(db: Db, fn: () => T): T {
  return db.transaction(fn)()
}
