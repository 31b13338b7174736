import type { Db } from '../db/open'
import type { RunSource, RunStatus, RunView } from './types'
import { perDb } from '../db/per-db'

/** SQL for `runs` and `run_events`. The only place with SQL for them. */

export interface RunEventRow { run_id: string; seq: number; type: string; data: string; created_at: string }

const RUN_COLS = ['id', 'source', 'source_id', 'owner_id', 'workspace_id', 'mode', 'status', 'model', 'input', 'output', 'output_parsed', 'raw_output',
  'tool_calls', 'tokens_input', 'tokens_output', 'iterations', 'cost_micro', 'charged_micro', 'latency_ms', 'caller', 'error', 'error_code',
  'error_status', 'callback_url', 'callback_status', 'callback_attempts', 'callback_last_status', 'meta', 'created_at', 'started_at',
  'finished_at'] as const satisfies readonly (keyof RunView)[]

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ')
// Built once: the hot path reuses the same SQL text (Bun caches the prepared statement by it).
const INSERT_RUN = `INSERT INTO runs (${RUN_COLS.join(', ')}) VALUES (${placeholders(RUN_COLS.length)})`
const FIXED = ['id', 'source', 'source_id', 'owner_id', 'workspace_id', 'mode', 'model', 'input', 'created_at', 'caller', 'callback_url', 'meta']
const FINISH_COLS = RUN_COLS.filter((c) => !FIXED.includes(c))
const FINISH_RUN = `UPDATE runs SET ${FINISH_COLS.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`

/** GET /api/runs: who and what to list; `before` is the cursor (the last item of the previous page). */
export interface RunListQuery {
  ownerId: string | null; workspaceId: string | null; sources: RunSource[]; status?: RunStatus; sourceId?: string
  before?: { createdAt: string; id: string }; limit: number
}

const runsStoreOf = (db: Db) => ({
  insert(row: RunView) {
    db.query(INSERT_RUN).run(...RUN_COLS.map((c) => row[c]))
  },
  /** Writes the outcome of a finished run (everything but identity, input and creation). 0 when the run is gone. */
  finish: (row: RunView) => db.query(FINISH_RUN).run(...FINISH_COLS.map((c) => row[c]), row.id).changes,
  get: (id: string) => db.query<RunView, [string]>('SELECT * FROM runs WHERE id = ?').get(id),
  status: (id: string) => db.query<{ status: RunStatus }, [string]>('SELECT status FROM runs WHERE id = ?').get(id)?.status ?? null,
  /** Newest first. */
  list: (source: RunSource, sourceId: string, limit: number) => db.query<RunView, [string, string, number]>(
    'SELECT * FROM runs WHERE source = ? AND source_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
  ).all(source, sourceId, limit),
  /** Newest first across sources; served by runs_owner_created for one owner (admins' all=true scans: an
   * operator query, kept off the hot path's insert cost). */
  page(q: RunListQuery): RunView[] {
    if (!q.sources.length) return []
    const where: string[] = [`source IN (${placeholders(q.sources.length)})`]
    const args: (string | number)[] = [...q.sources]
    if (q.ownerId !== null) { where.unshift('owner_id = ?'); args.unshift(q.ownerId) }
    if (q.workspaceId !== null) { where.push('workspace_id = ?'); args.push(q.workspaceId) }
    if (q.status) { where.push('status = ?'); args.push(q.status) }
    if (q.sourceId) { where.push('source_id = ?'); args.push(q.sourceId) }
    if (q.before) { where.push('(created_at < ? OR (created_at = ? AND id < ?))'); args.push(q.before.createdAt, q.before.createdAt, q.before.id) }
    args.push(q.limit)
    return db.query<RunView, (string | number)[]>(`SELECT * FROM runs WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`).all(...args)
  },
  markRunning: (id: string, at: string) =>
    db.query("UPDATE runs SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'").run(at, id).changes,
  unfinished: () => db.query<RunView, []>("SELECT * FROM runs WHERE status IN ('queued', 'running') ORDER BY created_at, rowid").all(),
  unfinishedOf: (source: RunSource, sourceId: string) => db.query<{ id: string }, [string, string]>(
    "SELECT id FROM runs WHERE source = ? AND source_id = ? AND status IN ('queued', 'running')",
  ).all(source, sourceId).map((r) => r.id),
  pendingCallbacks: () => db.query<RunView, []>("SELECT * FROM runs WHERE callback_status = 'pending' ORDER BY finished_at").all(),
  setCallback: (id: string, status: 'pending' | 'delivered' | 'failed', attempts: number, lastStatus: number | null) =>
    db.query('UPDATE runs SET callback_status = ?, callback_attempts = ?, callback_last_status = ? WHERE id = ?').run(status, attempts, lastStatus, id),
})

const runEventsStoreOf = (db: Db) => ({
  /** Skips events of a run deleted meanwhile (its endpoint was deleted mid-run). */
  insert: (e: RunEventRow) => db.query(
    'INSERT OR IGNORE INTO run_events (run_id, seq, type, data, created_at) SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM runs WHERE id = ?1)',
  ).run(e.run_id, e.seq, e.type, e.data, e.created_at),
  after: (runId: string, seq: number) =>
    db.query<RunEventRow, [string, number]>('SELECT * FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq').all(runId, seq),
  last: (runId: string) => db.query<RunEventRow, [string]>('SELECT * FROM run_events WHERE run_id = ? ORDER BY seq DESC LIMIT 1').get(runId),
})

export const runsStore = perDb(runsStoreOf)
export const runEventsStore = perDb(runEventsStoreOf)
