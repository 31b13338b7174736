import type { Db } from '../../src/db/open'

/** SQL of the /v1 domain: v1_tasks and usage_rollup (plus read-only agent lookups). */

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

export const tasksStore = (db: Db) => ({
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
export interface UsageDelta { ownerId: string; workspaceId: string; hour: string; keys: Record<UsageDim, string>; tokensIn: number; tokensOut: number; costMicro: number; error: boolean }

export interface UsageRow { bucket: string; key: string; runs: number; tokens_input: number; tokens_output: number; cost_micro: number; errors: number }

const UPSERT_USAGE = `INSERT INTO usage_rollup (owner_id, workspace_id, dim, hour, key, runs, tokens_input, tokens_output, cost_micro, errors)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (owner_id, dim, hour, workspace_id, key) DO UPDATE SET runs = runs + excluded.runs, tokens_input = tokens_input + excluded.tokens_input,
  tokens_output = tokens_output + excluded.tokens_output, cost_micro = cost_micro + excluded.cost_micro, errors = errors + excluded.errors`

export const usageStore = (db: Db) => ({
  add(d: UsageDelta, runs = 1) {
    const stmt = db.query(UPSERT_USAGE)
    for (const dim of ['agent', 'model', 'channel', 'token'] as const) {
      stmt.run(d.ownerId, d.workspaceId, dim, d.hour, d.keys[dim], runs, d.tokensIn, d.tokensOut, d.costMicro, d.error ? 1 : 0)
    }
  },
  /** Sums per bucket (hour: 20 chars 'YYYY-MM-DDTHH:00:00Z'; day: the first 10) and key. Reads the rollup only. */
  query: (q: { ownerId: string | null; workspaceId: string | null; dim: UsageDim; from: string; to: string; day: boolean }) =>
    db.query<UsageRow, [string | null, string | null, string, string, string, number]>(
      `SELECT CASE WHEN ?6 THEN substr(hour, 1, 10) ELSE hour END AS bucket, key, sum(runs) AS runs, sum(tokens_input) AS tokens_input,
        sum(tokens_output) AS tokens_output, sum(cost_micro) AS cost_micro, sum(errors) AS errors
       FROM usage_rollup WHERE dim = ?3 AND hour >= ?4 AND hour < ?5 AND (?1 IS NULL OR owner_id = ?1) AND (?2 IS NULL OR workspace_id = ?2)
       GROUP BY bucket, key ORDER BY bucket, key`,
    ).all(q.ownerId, q.workspaceId, q.dim, q.from, q.to, q.day ? 1 : 0),
})

/** Read-only views of the agents /v1 serves (rows of the bots, agent-endpoints and scheduled agents domains). */
export interface AgentRow {
  id: string; type: 'bot' | 'endpoint' | 'scheduled'; owner_id: string; workspace_id: string | null; name: string; slug: string; description: string | null
  status: string; platform: string | null; model: string; tools: string | null; created_at: string
}

const AGENT_SELECT = `SELECT id, 'bot' AS type, owner_id, workspace_id, name, slug, description, status, platform, llm_model AS model, tools, created_at FROM bots
  UNION ALL SELECT id, 'endpoint' AS type, owner_id, workspace_id, name, slug, description, status, NULL AS platform, llm_model AS model, tools, created_at FROM agent_endpoints
  UNION ALL SELECT a.id, 'scheduled' AS type, a.owner_id, w.workspace_id, a.workflow_name AS name, a.id AS slug, w.description, a.status, NULL AS platform,
    coalesce(json_extract(a.agent_config, '$.model'), 'workflow') AS model, NULL AS tools, a.created_at
    FROM agents a LEFT JOIN workflows w ON w.id = a.workflow_id`

export const agentsStore = (db: Db) => ({
  get: (id: string) => db.query<AgentRow, [string]>(`SELECT * FROM (${AGENT_SELECT}) WHERE id = ?`).get(id),
  list: (ownerId: string | null, workspaceId: string | null) => db.query<AgentRow, [string | null, string | null]>(
    `SELECT * FROM (${AGENT_SELECT}) WHERE (?1 IS NULL OR owner_id = ?1) AND (?2 IS NULL OR workspace_id = ?2) ORDER BY created_at DESC, id`,
  ).all(ownerId, workspaceId),
  model: (id: string) => db.query<{ model: string; workspace_id: string; platform: string | null }, [string]>(`SELECT model, workspace_id, platform FROM (${AGENT_SELECT}) WHERE id = ?`).get(id),
})
