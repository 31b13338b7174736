import type { Db } from '../../src/db/open'
import { perDb } from '../../src/db/per-db'

/** Every SQL statement behind GET /api/admin/system: read-only counts over the whole instance. */
export interface RunWindow { runs: number; failures: number; cost_micro: number }

const tableExists = (db: Db, name: string) =>
  !!db.query<{ n: number }, [string]>("SELECT 1 AS n FROM sqlite_master WHERE type = 'table' AND name = ?").get(name)

const systemStoreOf = (db: Db) => ({
  pageBytes: () => {
    const size = db.query<{ page_size: number }, []>('PRAGMA page_size').get()!.page_size
    const count = db.query<{ page_count: number }, []>('PRAGMA page_count').get()!.page_count
    return size * count
  },
  /** Runs, failures and cost created in [from, to). The unified `runs` table when it exists, else endpoint runs. */
  runWindow: (from: string, to: string): RunWindow => {
    const table = tableExists(db, 'runs') ? 'runs' : 'endpoint_runs'
    return db.query<RunWindow, [string, string]>(
      `SELECT count(*) AS runs, coalesce(sum(status = 'error'), 0) AS failures, coalesce(sum(cost_micro), 0) AS cost_micro
       FROM ${table} WHERE created_at >= ? AND created_at < ?`).get(from, to)!
  },
  queues: () => {
    const one = (sql: string) => db.query<{ n: number }, []>(sql).get()!.n
    const runTable = tableExists(db, 'runs') ? 'runs' : 'endpoint_runs'
    return {
      runs_queued: one(`SELECT count(*) AS n FROM ${runTable} WHERE status = 'queued'`),
      runs_running: one(`SELECT count(*) AS n FROM ${runTable} WHERE status = 'running'`),
      bot_inbox_pending: one("SELECT count(*) AS n FROM channel_inbox WHERE status IN ('pending', 'processing')"),
      webhook_deliveries_pending: one("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'"),
      webhook_deliveries_failed: one("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'failed'"),
    }
  },
})

export const systemStore = perDb(systemStoreOf)
