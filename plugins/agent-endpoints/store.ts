import type { Db } from '../../src/db/open'
import type { TemplateView } from './model'

/** SQL for agent_endpoints, endpoint_runs, endpoint_run_events and endpoint_templates. Only place with SQL. */

export interface EndpointRow {
  id: string; owner_id: string; workspace_id: string; name: string; slug: string; description: string | null
  agent_type: string; system_prompt: string; llm_provider: string; llm_model: string; llm_api_key_sealed: string | null
  llm_base_url: string | null; max_tokens: number; temperature: number; input_schema: string | null; output_schema: string | null
  output_format: string; max_tool_calls: number; timeout_ms: number; enable_streaming: number; async_mode: number
  auth_mode: string; price_per_run_cents: number; rate_limit_rpm: number; template_id: string | null; status: string
  key_hash: string; key_prefix: string; key_sealed: string; created_at: string; updated_at: string
  /** JSON array: the tool allow-list (skills); null = every workspace tool. */
  tools: string | null
}

export interface RunRow {
  id: string; endpoint_id: string; owner_id: string; mode: 'sync' | 'stream' | 'async' | 'test'
  status: 'queued' | 'running' | 'success' | 'error' | 'test'; input: string; output: string | null; output_parsed: number
  raw_output: string | null; tool_calls: string; tokens_input: number; tokens_output: number; iterations: number
  cost_micro: number; charged_micro: number; latency_ms: number; caller_ip: string | null; error: string | null
  error_code: string | null; error_status: number | null; callback_url: string | null
  callback_status: 'pending' | 'delivered' | 'failed' | null; callback_attempts: number; callback_last_status: number | null
  created_at: string; started_at: string | null; finished_at: string | null
}

export interface RunEventRow { run_id: string; seq: number; type: string; data: string; created_at: string }

const ENDPOINT_COLS = ['id', 'owner_id', 'workspace_id', 'name', 'slug', 'description', 'agent_type', 'system_prompt', 'llm_provider',
  'llm_model', 'llm_api_key_sealed', 'llm_base_url', 'max_tokens', 'temperature', 'input_schema', 'output_schema', 'output_format',
  'max_tool_calls', 'timeout_ms', 'enable_streaming', 'async_mode', 'auth_mode', 'price_per_run_cents', 'rate_limit_rpm', 'template_id',
  'status', 'key_hash', 'key_prefix', 'key_sealed', 'created_at', 'updated_at', 'tools'] as const

/** Columns a PATCH may change (never id, owner, workspace, key material or timestamps of creation). */
export const MUTABLE_COLS = ['name', 'slug', 'description', 'agent_type', 'system_prompt', 'llm_provider', 'llm_model', 'llm_api_key_sealed',
  'llm_base_url', 'max_tokens', 'temperature', 'input_schema', 'output_schema', 'output_format', 'max_tool_calls', 'timeout_ms',
  'enable_streaming', 'async_mode', 'auth_mode', 'price_per_run_cents', 'rate_limit_rpm', 'updated_at', 'tools'] as const

const RUN_COLS = ['id', 'endpoint_id', 'owner_id', 'mode', 'status', 'input', 'output', 'output_parsed', 'raw_output', 'tool_calls',
  'tokens_input', 'tokens_output', 'iterations', 'cost_micro', 'charged_micro', 'latency_ms', 'caller_ip', 'error', 'error_code',
  'error_status', 'callback_url', 'callback_status', 'callback_attempts', 'callback_last_status', 'created_at', 'started_at', 'finished_at'] as const

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ')
// Built once: the hot path reuses the same SQL text (Bun caches the prepared statement by it).
const INSERT_ENDPOINT = `INSERT INTO agent_endpoints (${ENDPOINT_COLS.join(', ')}) VALUES (${placeholders(ENDPOINT_COLS.length)})`
const UPDATE_ENDPOINT = `UPDATE agent_endpoints SET ${MUTABLE_COLS.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`
const INSERT_RUN = `INSERT INTO endpoint_runs (${RUN_COLS.join(', ')}) VALUES (${placeholders(RUN_COLS.length)})`
const FINISH_COLS = RUN_COLS.filter((c) => !['id', 'endpoint_id', 'owner_id', 'mode', 'input', 'created_at', 'caller_ip', 'callback_url'].includes(c))
const FINISH_RUN = `UPDATE endpoint_runs SET ${FINISH_COLS.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`

/**
 * Endpoint rows by slug for POST /api/run/:slug (one SELECT * of 31 columns per run was ~5% of a run's CPU).
 * Every write below bumps the database's version, which drops the cache at once (a new key, a deactivation,
 * an edit take effect on the next request). Writes that bypass this store (cascades from deleting a user or a
 * workspace, hand-written SQL) are seen within SLUG_CACHE_MS; a run of an endpoint deleted meanwhile still
 * fails to record (foreign key) and answers 404. Cached rows are frozen: callers never mutate them.
 */
const SLUG_CACHE_MS = 1000
const SLUG_CACHE_MAX = 10_000
interface SlugCache { version: number; rows: Map<string, { row: EndpointRow; version: number; at: number }> }
const slugCaches = new WeakMap<Db, SlugCache>()
const slugCache = (db: Db) => {
  let c = slugCaches.get(db)
  if (!c) slugCaches.set(db, (c = { version: 0, rows: new Map() }))
  return c
}
const endpointsChanged = (db: Db) => { slugCache(db).version++ }

export const endpointsStore = (db: Db) => ({
  insert(row: EndpointRow) {
    endpointsChanged(db)
    db.query(INSERT_ENDPOINT).run(...ENDPOINT_COLS.map((c) => row[c]))
  },
  get: (id: string) => db.query<EndpointRow, [string]>('SELECT * FROM agent_endpoints WHERE id = ?').get(id),
  bySlug(slug: string): EndpointRow | null {
    const cache = slugCache(db)
    const now = performance.now()
    const hit = cache.rows.get(slug)
    if (hit && hit.version === cache.version && now - hit.at < SLUG_CACHE_MS) return hit.row
    const row = db.query<EndpointRow, [string]>('SELECT * FROM agent_endpoints WHERE slug = ?').get(slug)
    if (!row) { cache.rows.delete(slug); return null }
    if (cache.rows.size >= SLUG_CACHE_MAX) cache.rows.delete(cache.rows.keys().next().value!)
    cache.rows.set(slug, { row: Object.freeze(row), version: cache.version, at: now })
    return row
  },
  slugTaken: (slug: string) => !!db.query<{ one: number }, [string]>('SELECT 1 AS one FROM agent_endpoints WHERE slug = ?').get(slug),
  list: (ownerId: string | null, workspaceId: string | null) => db.query<EndpointRow, [string | null, string | null]>(
    'SELECT * FROM agent_endpoints WHERE (?1 IS NULL OR owner_id = ?1) AND (?2 IS NULL OR workspace_id = ?2) ORDER BY created_at DESC, rowid DESC',
  ).all(ownerId, workspaceId),
  update(row: EndpointRow) {
    endpointsChanged(db)
    db.query(UPDATE_ENDPOINT).run(...MUTABLE_COLS.map((c) => row[c]), row.id)
  },
  setStatus(id: string, status: string, at: string) {
    endpointsChanged(db)
    return db.query('UPDATE agent_endpoints SET status = ?, updated_at = ? WHERE id = ?').run(status, at, id)
  },
  setKey(id: string, hash: string, prefix: string, sealed: string, at: string) {
    endpointsChanged(db)
    return db.query('UPDATE agent_endpoints SET key_hash = ?, key_prefix = ?, key_sealed = ?, updated_at = ? WHERE id = ?').run(hash, prefix, sealed, at, id)
  },
  remove(id: string) {
    endpointsChanged(db)
    return db.query('DELETE FROM agent_endpoints WHERE id = ?').run(id)
  },
})

export const runsStore = (db: Db) => ({
  insert(row: RunRow) {
    db.query(INSERT_RUN).run(...RUN_COLS.map((c) => row[c]))
  },
  /** Writes the outcome of a finished run (every column but id, endpoint, owner, mode, input, created_at). */
  finish(row: RunRow) {
    return db.query(FINISH_RUN).run(...FINISH_COLS.map((c) => row[c]), row.id).changes
  },
  get: (id: string) => db.query<RunRow, [string]>('SELECT * FROM endpoint_runs WHERE id = ?').get(id),
  status: (id: string) => db.query<{ status: RunRow['status'] }, [string]>('SELECT status FROM endpoint_runs WHERE id = ?').get(id)?.status ?? null,
  /** Newest first. */
  list: (endpointId: string, limit: number) => db.query<RunRow, [string, number]>(
    'SELECT * FROM endpoint_runs WHERE endpoint_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
  ).all(endpointId, limit),
  markRunning: (id: string, at: string) =>
    db.query("UPDATE endpoint_runs SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'").run(at, id).changes,
  unfinished: () => db.query<RunRow, []>("SELECT * FROM endpoint_runs WHERE status IN ('queued', 'running') ORDER BY created_at, rowid").all(),
  pendingCallbacks: () => db.query<RunRow, []>("SELECT * FROM endpoint_runs WHERE callback_status = 'pending' ORDER BY finished_at").all(),
  setCallback: (id: string, status: 'pending' | 'delivered' | 'failed', attempts: number, lastStatus: number | null) =>
    db.query('UPDATE endpoint_runs SET callback_status = ?, callback_attempts = ?, callback_last_status = ? WHERE id = ?').run(status, attempts, lastStatus, id),
})

export const runEventsStore = (db: Db) => ({
  /** Skips events of a run deleted meanwhile (its endpoint was deleted mid-run). */
  insert: (e: RunEventRow) => db.query(
    'INSERT OR IGNORE INTO endpoint_run_events (run_id, seq, type, data, created_at) SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM endpoint_runs WHERE id = ?1)',
  ).run(e.run_id, e.seq, e.type, e.data, e.created_at),
  after: (runId: string, seq: number) =>
    db.query<RunEventRow, [string, number]>('SELECT * FROM endpoint_run_events WHERE run_id = ? AND seq > ? ORDER BY seq').all(runId, seq),
  last: (runId: string) => db.query<RunEventRow, [string]>('SELECT * FROM endpoint_run_events WHERE run_id = ? ORDER BY seq DESC LIMIT 1').get(runId),
})

export const templatesStore = (db: Db) => ({
  list: (type: string | null) => db.query<TemplateView, [string | null]>(
    'SELECT * FROM endpoint_templates WHERE (?1 IS NULL OR type = ?1) ORDER BY popularity DESC, name',
  ).all(type),
  get: (id: string) => db.query<TemplateView, [string]>('SELECT * FROM endpoint_templates WHERE id = ?').get(id),
})
