import type { Db } from '../../src/db/open'
import { perDb } from '../../src/db/per-db'

/** SQL of the /v1 domain: v1_tasks and usage_rollup. The agents it serves come from their domains' services (directory.ts). */

export type TaskState = 'submitted' | 'working' | 'completed' | 'failed' | 'canceled'

export interface TaskRow {
  id: string; message_id: string; agent_id: string; owner_id: string; workspace_id: string | null; token_id: string | null
  state: TaskState; content: string; channel: string; metadata: string | null; output: string | null; error: string | null
  error_code: string | null; run_id: string | null; tokens_input: number; tokens_output: number; cost_micro: number
  created_at: string; updated_at: string; completed_at: string | null
}

const TASK_COLS = ['id', 'message_id', 'agent_id', 'owner_id', 'workspace_id', 'token_id', 'state', 'content', 'channel', 'metadata', 'output',
  'error', 'error_code', 'run_id', 'tokens_input', 'tokens_output', 'cost_micro', 'created_at', 'updated_at', 'completed_at'] as const
const INSERT_TASK = `INSERT INTO v1_tasks (${TASK_COLS.join(', ')}) VALUES (${TASK_COLS.map(() => '?').join(', ')})`

const tasksStoreOf = (db: Db) => ({
  insert: (r: TaskRow) => db.query(INSERT_TASK).run(...TASK_COLS.map((c) => r[c])),
  get: (id: string) => db.query<TaskRow, [string]>('SELECT * FROM v1_tasks WHERE id = ?').get(id),
  working: (id: string, runId: string | null, at: string) =>
    db.query("UPDATE v1_tasks SET state = 'working', run_id = ?, updated_at = ? WHERE id = ? AND state = 'submitted'").run(runId, at, id).changes,
  finish: (r: Pick<TaskRow, 'id' | 'state' | 'output' | 'error' | 'error_code' | 'run_id' | 'tokens_input' | 'tokens_output' | 'cost_micro' | 'updated_at' | 'completed_at'>) =>
    db.query(`UPDATE v1_tasks SET state = ?, output = ?, error = ?, error_code = ?, run_id = ?, tokens_input = ?, tokens_output = ?, cost_micro = ?,
      updated_at = ?, completed_at = ? WHERE id = ? AND state IN ('submitted', 'working')`)
      .run(r.state, r.output, r.error, r.error_code, r.run_id, r.tokens_input, r.tokens_output, r.cost_micro, r.updated_at, r.completed_at, r.id).changes,
  /** Newest first; `before` is the cursor (a task id: ids are time-ordered). */
  page: (agentId: string, state: TaskState | null, before: string | null, limit: number) => db.query<TaskRow, [string, string | null, string | null, number]>(
    `SELECT * FROM v1_tasks WHERE agent_id = ?1 AND (?2 IS NULL OR state = ?2) AND (?3 IS NULL OR id < ?3) ORDER BY id DESC LIMIT ?4`,
  ).all(agentId, state, before, limit),
  unfinished: () => db.query<TaskRow, []>("SELECT * FROM v1_tasks WHERE state IN ('submitted', 'working')").all(),
})

export type UsageDim = 'agent' | 'model' | 'channel' | 'token'
/** One finished run's increment; `hour` is its hour bucket (`2026-03-14T10:00:00Z`). */
/** One rollup row's increment (several runs' deltas summed). */
export interface UsageIncrement {
  ownerId: string; workspaceId: string; dim: UsageDim; grain: 'hour' | 'day'; bucket: string; key: string
  runs: number; tokensIn: number; tokensOut: number; costMicro: number; errors: number
}
export interface UsageDelta { ownerId: string; workspaceId: string; hour: string; keys: Record<UsageDim, string>; tokensIn: number; tokensOut: number; costMicro: number; error: boolean }

export interface UsageRow { bucket: string; key: string; runs: number; tokens_input: number; tokens_output: number; cost_micro: number; errors: number }

const UPSERT_USAGE = `INSERT INTO usage_rollup (owner_id, dim, grain, bucket, workspace_id, key, runs, tokens_input, tokens_output, cost_micro, errors)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (owner_id, dim, grain, bucket, key, workspace_id) DO UPDATE SET runs = runs + excluded.runs, tokens_input = tokens_input + excluded.tokens_input,
  tokens_output = tokens_output + excluded.tokens_output, cost_micro = cost_micro + excluded.cost_micro, errors = errors + excluded.errors`

const SUMS = `sum(runs) AS runs, sum(tokens_input) AS tokens_input, sum(tokens_output) AS tokens_output, sum(cost_micro) AS cost_micro, sum(errors) AS errors`

const usageStoreOf = (db: Db) => ({
  /** Adds summed increments: one upsert per row of the rollup, whatever the number of runs folded into it. */
  add(rows: Iterable<UsageIncrement>) {
    const stmt = db.query(UPSERT_USAGE)
    for (const r of rows) stmt.run(r.ownerId, r.dim, r.grain, r.bucket, r.workspaceId, r.key, r.runs, r.tokensIn, r.tokensOut, r.costMicro, r.errors)
  },
  /**
   * Sums per bucket and key over [from, to) from rows of one grain; `dayOfHours` folds hour rows into days (a
   * range that does not start and end on whole days). One owner's query is a range of the primary key.
   */
  query(q: { ownerId: string | null; workspaceId: string | null; dim: UsageDim; grain: 'hour' | 'day'; from: string; to: string; dayOfHours: boolean }) {
    const bucket = q.dayOfHours ? "substr(bucket, 1, 10) || 'T00:00:00Z'" : 'bucket'
    const where = `dim = ?1 AND grain = ?2 AND bucket >= ?3 AND bucket < ?4 AND (?5 IS NULL OR workspace_id = ?5)`
    const sql = (owner: string) => `SELECT ${bucket} AS bucket, key, ${SUMS} FROM usage_rollup WHERE ${owner}${where} GROUP BY 1, 2 ORDER BY 1, 2`
    return q.ownerId === null
      ? db.query<UsageRow, [string, string, string, string, string | null]>(sql('')).all(q.dim, q.grain, q.from, q.to, q.workspaceId)
      : db.query<UsageRow, [string, string, string, string, string | null, string]>(sql('owner_id = ?6 AND ')).all(q.dim, q.grain, q.from, q.to, q.workspaceId, q.ownerId)
  },
})

export const tasksStore = perDb(tasksStoreOf)
export const usageStore = perDb(usageStoreOf)
