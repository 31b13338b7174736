import type { Kernel } from '../../src/kernel'
import { forbidden, notFound } from '../../src/http/errors'
import { canAccess, listScope, type Principal } from '../../src/auth/principal'
import { newId } from '../../src/db/ids'
import { forgetTokens } from '../../src/auth/authenticate'
import { nowIso } from '../../src/clock'
import type { WorkspaceView } from './model'
import { workspaceStore } from './store'

const get = (k: Kernel, id: string) => workspaceStore(k.db).get(id)

/** The workspace if `who` may reach it; 404 otherwise (others' workspaces look missing). */
export function requireOwned(k: Kernel, who: Principal, id: string): WorkspaceView {
  const ws = get(k, id)
  if (!ws || !canAccess(who, ws.owner_id, ws.id)) throw notFound('Workspace')
  return ws
}

export function list(k: Kernel, who: Principal): WorkspaceView[] {
  const { ownerId, workspaceId } = listScope(who)
  return workspaceStore(k.db).list(ownerId, workspaceId)
}

export function create(k: Kernel, who: Principal, input: { name: string; description?: string | null }): WorkspaceView {
  if (who.workspaceId) throw forbidden('A workspace token reaches only its own workspace; it cannot create workspaces')
  const now = nowIso(k.clock)
  const ws: WorkspaceView = { id: newId('ws'), owner_id: who.userId, name: input.name, description: input.description ?? null, created_at: now, updated_at: now }
  workspaceStore(k.db).insert(ws)
  return ws
}

export function update(k: Kernel, who: Principal, id: string, patch: { name?: string; description?: string | null }): WorkspaceView {
  const ws = requireOwned(k, who, id)
  const next = { ...ws, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)), updated_at: nowIso(k.clock) }
  workspaceStore(k.db).update(next)
  return next
}

/** Deleting a workspace removes what hangs off it (ON DELETE CASCADE in each domain's tables). */
export function remove(k: Kernel, who: Principal, id: string) {
  requireOwned(k, who, id)
  workspaceStore(k.db).remove(id)
  forgetTokens(k, { workspaceId: id }) // its workspace tokens went with it (ON DELETE CASCADE)
}

/** The caller's first (oldest) workspace id, or null: where chat conversations take their tools by default. */
export const firstWorkspaceId = (k: Kernel, who: Principal): string | null => workspaceStore(k.db).firstOf(who.userId)
