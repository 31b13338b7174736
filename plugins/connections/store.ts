import type { Db } from '../../src/db/open'
import { toolsChanged } from '../../src/tools/workspace-tools'
import { perDb } from '../../src/db/per-db'

export type ConnectionStatus = 'active' | 'error' | 'expired' | 'disabled'

export interface ConnectionRow {
  id: string
  owner_id: string
  platform: string
  name: string
  slug: string
  config_sealed: string
  config_fields: string
  status: ConnectionStatus
  error_message: string | null
  account: string | null
  tools: string
  rev: number
  last_tested_at: string | null
  created_at: string
  updated_at: string
}

/** SQL for connections (prepared statements, cached by bun:sqlite). */
const connectionStoreOf = (db: Db) => ({
  get: (id: string) => db.query<ConnectionRow, [string]>('SELECT * FROM connections WHERE id = ?').get(id),
  list: (ownerId: string | null) =>
    db.query<ConnectionRow, [string | null]>('SELECT * FROM connections WHERE (?1 IS NULL OR owner_id = ?1) ORDER BY created_at, rowid').all(ownerId),
  insert(r: ConnectionRow) {
    db.query(`INSERT INTO connections (id, owner_id, platform, name, slug, config_sealed, config_fields, status, error_message, account, tools, rev, last_tested_at, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      r.id, r.owner_id, r.platform, r.name, r.slug, r.config_sealed, r.config_fields, r.status, r.error_message, r.account, r.tools, r.rev, r.last_tested_at, r.created_at, r.updated_at,
    )
    toolsChanged(db)
  },
  update(r: ConnectionRow) {
    db.query(`UPDATE connections SET name = ?, slug = ?, config_sealed = ?, config_fields = ?, status = ?, error_message = ?, account = ?, tools = ?, rev = ?,
      last_tested_at = ?, updated_at = ? WHERE id = ?`).run(
      r.name, r.slug, r.config_sealed, r.config_fields, r.status, r.error_message, r.account, r.tools, r.rev, r.last_tested_at, r.updated_at, r.id,
    )
    toolsChanged(db)
  },
  /** Only an active connection turns expired (a call found its credentials refused). */
  expire(id: string, message: string, at: string) {
    db.query("UPDATE connections SET status = 'expired', error_message = ?, updated_at = ? WHERE id = ? AND status = 'active'").run(message, at, id)
    toolsChanged(db)
  },
  /** mcp connections: the server announced a new tool list (only for the config it was listed with). */
  setTools(id: string, rev: number, tools: unknown[]) {
    db.query('UPDATE connections SET tools = ? WHERE id = ? AND rev = ?').run(JSON.stringify(tools), id, rev)
    toolsChanged(db)
  },
  remove(id: string) {
    db.query('DELETE FROM connections WHERE id = ?').run(id)
    toolsChanged(db)
  },
})

export const connectionStore = perDb(connectionStoreOf)
