import type { Db } from '../../src/db/open'
import type { EndpointRow } from '../agent-endpoints/store'

/**
 * Read-only lookups of agent endpoints this surface needs and the endpoints store does not offer
 * (by key hash, by id-or-slug). The rows are the agent-endpoints domain's; nothing here writes them.
 */
export const agentsReader = (db: Db) => ({
  byKeyHash: (hash: string) => db.query<EndpointRow, [string]>('SELECT * FROM agent_endpoints WHERE key_hash = ?').get(hash),
  byIdOrSlug: (model: string) => db.query<EndpointRow, [string]>('SELECT * FROM agent_endpoints WHERE id = ?1 OR slug = ?1 LIMIT 1').get(model),
  active: (ownerId: string | null, workspaceId: string | null) => db.query<EndpointRow, [string | null, string | null]>(
    "SELECT * FROM agent_endpoints WHERE status = 'active' AND (?1 IS NULL OR owner_id = ?1) AND (?2 IS NULL OR workspace_id = ?2) ORDER BY created_at, rowid",
  ).all(ownerId, workspaceId),
})
