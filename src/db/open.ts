import { Database } from 'bun:sqlite'

export type Db = Database

// bun:sqlite keeps only the 20 most recently used statements of `db.query()`: with ~300 distinct statements
// in the stores, most calls re-prepared their SQL (a fifth of a chat turn's CPU in a profile). Every store
// statement now stays prepared; the LRU bound still caps statements built from variable SQL.
Database.MAX_QUERY_CACHE_SIZE = 1000

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
