import type { Db } from '../../src/db/open'
import type { McpTool } from '../../src/tools/mcp-pool'
import { toolsChanged } from '../../src/tools/workspace-tools'
import { perDb } from '../../src/db/per-db'

export interface McpServerRow {
  id: string
  owner_id: string
  workspace_id: string
  name: string
  slug: string
  transport: 'http' | 'stdio'
  url: string | null
  command: string | null
  args: string
  headers_sealed: string | null
  header_names: string
  env_sealed: string | null
  env_names: string
  enabled: number
  status: 'pending' | 'connected' | 'error'
  error_message: string | null
  tools: string
  tools_refreshed_at: string | null
  rev: number
  created_at: string
  updated_at: string
}

const COLS = 'id, owner_id, workspace_id, name, slug, transport, url, command, args, headers_sealed, header_names, env_sealed, env_names, enabled, status, error_message, tools, tools_refreshed_at, rev, created_at, updated_at'

/** SQL for mcp_servers (prepared statements, cached by bun:sqlite). */
const mcpStoreOf = (db: Db) => ({
  get: (id: string) => db.query<McpServerRow, [string]>('SELECT * FROM mcp_servers WHERE id = ?').get(id),
  byWorkspace: (workspaceId: string) =>
    db.query<McpServerRow, [string]>('SELECT * FROM mcp_servers WHERE workspace_id = ? ORDER BY created_at, rowid').all(workspaceId),
  slugTaken: (workspaceId: string, slug: string, exceptId: string | null) =>
    !!db.query<{ id: string }, [string, string, string | null]>('SELECT id FROM mcp_servers WHERE workspace_id = ? AND slug = ? AND (?3 IS NULL OR id != ?3)').get(workspaceId, slug, exceptId),
  insert(r: McpServerRow) {
    db.query(`INSERT INTO mcp_servers (${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      r.id, r.owner_id, r.workspace_id, r.name, r.slug, r.transport, r.url, r.command, r.args, r.headers_sealed, r.header_names,
      r.env_sealed, r.env_names, r.enabled, r.status, r.error_message, r.tools, r.tools_refreshed_at, r.rev, r.created_at, r.updated_at,
    )
    toolsChanged(db)
  },
  update(r: McpServerRow) {
    db.query(`UPDATE mcp_servers SET name = ?, slug = ?, transport = ?, url = ?, command = ?, args = ?, headers_sealed = ?, header_names = ?,
      env_sealed = ?, env_names = ?, enabled = ?, status = ?, error_message = ?, rev = ?, updated_at = ? WHERE id = ?`).run(
      r.name, r.slug, r.transport, r.url, r.command, r.args, r.headers_sealed, r.header_names, r.env_sealed, r.env_names, r.enabled,
      r.status, r.error_message, r.rev, r.updated_at, r.id,
    )
    toolsChanged(db)
  },
  setStatus(id: string, status: McpServerRow['status'], error: string | null) {
    db.query('UPDATE mcp_servers SET status = ?, error_message = ? WHERE id = ?').run(status, error, id)
    toolsChanged(db)
  },
  setTools(id: string, tools: McpTool[], at: string) {
    db.query("UPDATE mcp_servers SET tools = ?, tools_refreshed_at = ?, status = 'connected', error_message = NULL WHERE id = ?").run(JSON.stringify(tools), at, id)
    toolsChanged(db)
  },
  remove(id: string) {
    db.query('DELETE FROM mcp_servers WHERE id = ?').run(id)
    toolsChanged(db)
  },
  ownerRole: (userId: string) => db.query<{ role: string }, [string]>('SELECT role FROM users WHERE id = ?').get(userId)?.role ?? null,
})

export const mcpStore = perDb(mcpStoreOf)
