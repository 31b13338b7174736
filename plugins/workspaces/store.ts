import type { Db } from '../../src/db/open'
import type { WorkspaceView } from './model'
import { perDb } from '../../src/db/per-db'

/** SQL for `workspaces`. Only place with SQL for it. */
const workspaceStoreOf = (db: Db) => ({
  get: (id: string) => db.query<WorkspaceView, [string]>('SELECT * FROM workspaces WHERE id = ?').get(id),
  /** Newest first; null filters match everything. */
  list: (ownerId: string | null, workspaceId: string | null) => db.query<WorkspaceView, [string | null, string | null]>(
    'SELECT * FROM workspaces WHERE (?1 IS NULL OR owner_id = ?1) AND (?2 IS NULL OR id = ?2) ORDER BY created_at DESC',
  ).all(ownerId, workspaceId),
  insert: (ws: WorkspaceView) => db.query('INSERT INTO workspaces (id, owner_id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(ws.id, ws.owner_id, ws.name, ws.description, ws.created_at, ws.updated_at),
  update: (ws: WorkspaceView) => db.query('UPDATE workspaces SET name = ?, description = ?, updated_at = ? WHERE id = ?').run(ws.name, ws.description, ws.updated_at, ws.id),
  remove: (id: string) => db.query('DELETE FROM workspaces WHERE id = ?').run(id),
  /** The owner's first (oldest) workspace id, or null. */
  firstOf: (ownerId: string) => db.query<{ id: string }, [string]>('SELECT id FROM workspaces WHERE owner_id = ? ORDER BY created_at, rowid LIMIT 1').get(ownerId)?.id ?? null,
})

export const workspaceStore = perDb(workspaceStoreOf)
