import type { Db } from '../../src/db/open'
import type { TemplateView } from './model'
import { perDb } from '../../src/db/per-db'

/** SQL for agent_endpoints and endpoint_templates (their runs are k.runs'). Only place with SQL. */

export interface EndpointRow {
  id: string; owner_id: string; workspace_id: string; name: string; slug: string; description: string | null
  agent_type: string; system_prompt: string; llm_provider: string; llm_model: string; llm_api_key_sealed: string | null
  llm_base_url: string | null; max_tokens: number; temperature: number; input_schema: string | null; output_schema: string | null
  output_format: string; max_tool_calls: number; timeout_ms: number; enable_streaming: number; async_mode: number
  auth_mode: string; price_per_run_cents: number; rate_limit_rpm: number; template_id: string | null; status: string
  key_hash: string; key_prefix: string; key_sealed: string; created_at: string; updated_at: string
  /** The sealed `whsec_` secret that signs callbacks (Standard Webhooks); null for endpoints older than it. */
  callback_secret_sealed: string | null
  /** JSON array: the tool allow-list (skills); null = every workspace tool. */
  tools: string | null
}

const ENDPOINT_COLS = ['id', 'owner_id', 'workspace_id', 'name', 'slug', 'description', 'agent_type', 'system_prompt', 'llm_provider',
  'llm_model', 'llm_api_key_sealed', 'llm_base_url', 'max_tokens', 'temperature', 'input_schema', 'output_schema', 'output_format',
  'max_tool_calls', 'timeout_ms', 'enable_streaming', 'async_mode', 'auth_mode', 'price_per_run_cents', 'rate_limit_rpm', 'template_id',
  'status', 'key_hash', 'key_prefix', 'key_sealed', 'created_at', 'updated_at', 'callback_secret_sealed', 'tools'] as const

/** Columns a PATCH may change (never id, owner, workspace, key material or timestamps of creation). */
export const MUTABLE_COLS = ['name', 'slug', 'description', 'agent_type', 'system_prompt', 'llm_provider', 'llm_model', 'llm_api_key_sealed',
  'llm_base_url', 'max_tokens', 'temperature', 'input_schema', 'output_schema', 'output_format', 'max_tool_calls', 'timeout_ms',
  'enable_streaming', 'async_mode', 'auth_mode', 'price_per_run_cents', 'rate_limit_rpm', 'updated_at', 'tools'] as const

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ')
// Built once: the hot path reuses the same SQL text (Bun caches the prepared statement by it).
const INSERT_ENDPOINT = `INSERT INTO agent_endpoints (${ENDPOINT_COLS.join(', ')}) VALUES (${placeholders(ENDPOINT_COLS.length)})`
const UPDATE_ENDPOINT = `UPDATE agent_endpoints SET ${MUTABLE_COLS.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`

/**
 * Endpoint rows by slug for POST /api/run/:slug (one SELECT * of 31 columns per run was ~5% of a run's CPU).
 * Every write below bumps the database's version, which drops the cache at once (a new key, a deactivation,
 * an edit take effect on the next request). Writes that bypass this store (cascades from deleting a user or a
 * workspace, hand-written SQL) are seen within SLUG_CACHE_MS; a run of an endpoint deleted meanwhile is not
 * recorded and answers 404 (see requestFor). Cached rows are frozen: callers never mutate them.
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

const endpointsStoreOf = (db: Db) => ({
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
  /** A primary-key probe (no row decoded): checked in every run's final transaction. */
  exists: (id: string) => !!db.query<{ one: number }, [string]>('SELECT 1 AS one FROM agent_endpoints WHERE id = ?').get(id),
  byKeyHash: (hash: string) => db.query<EndpointRow, [string]>('SELECT * FROM agent_endpoints WHERE key_hash = ?').get(hash),
  byIdOrSlug: (idOrSlug: string) => db.query<EndpointRow, [string]>('SELECT * FROM agent_endpoints WHERE id = ?1 OR slug = ?1 LIMIT 1').get(idOrSlug),
  /** Active endpoints, oldest first (the order /v1/models and MCP tools/list show them in). */
  active: (ownerId: string | null, workspaceId: string | null) => db.query<EndpointRow, [string | null, string | null]>(
    "SELECT * FROM agent_endpoints WHERE status = 'active' AND (?1 IS NULL OR owner_id = ?1) AND (?2 IS NULL OR workspace_id = ?2) ORDER BY created_at, rowid",
  ).all(ownerId, workspaceId),
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
  setKey(id: string, hash: string, prefix: string, sealed: string, callbackSecretSealed: string, at: string) {
    endpointsChanged(db)
    return db.query('UPDATE agent_endpoints SET key_hash = ?, key_prefix = ?, key_sealed = ?, callback_secret_sealed = ?, updated_at = ? WHERE id = ?')
      .run(hash, prefix, sealed, callbackSecretSealed, at, id)
  },
  remove(id: string) {
    endpointsChanged(db)
    return db.query('DELETE FROM agent_endpoints WHERE id = ?').run(id)
  },
})

const templatesStoreOf = (db: Db) => ({
  list: (type: string | null) => db.query<TemplateView, [string | null]>(
    'SELECT * FROM endpoint_templates WHERE (?1 IS NULL OR type = ?1) ORDER BY popularity DESC, name',
  ).all(type),
  get: (id: string) => db.query<TemplateView, [string]>('SELECT * FROM endpoint_templates WHERE id = ?').get(id),
})

export const endpointsStore = perDb(endpointsStoreOf)
export const templatesStore = perDb(templatesStoreOf)
