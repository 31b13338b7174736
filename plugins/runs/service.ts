import type { Kernel } from '../../src/kernel'
import { ApiError, badRequest } from '../../src/http/errors'
import { hasScope, type Principal } from '../../src/auth/principal'
import { toCents } from '../../src/runs/billing'
import { RUN_SOURCES, type RunSource, type RunStatus, type RunView } from '../../src/runs/types'
import { RUN_SCOPES } from '../agent-endpoints/access'

/** The unified runs list and live feed: the caller's runs across sources, by the read rules of GET /api/runs/:id. */

export interface RunFilter { status?: RunStatus; source?: RunSource; source_id?: string; all?: 'true' | 'false' }

/** Who may see what: the owner (null = everyone, admin tokens with all=true), the workspace binding, readable sources. */
export interface Reach { ownerId: string | null; workspaceId: string | null; sources: RunSource[] }

/** Sources whose runs this credential may read (an endpoint's runs: endpoints.read or endpoints.run, as GET /api/runs/:id). */
const readable = (p: Principal, s: RunSource) =>
  hasScope(p, RUN_SCOPES[s].read) || (s === 'endpoint' && hasScope(p, 'endpoints.run'))

export function reachOf(p: Principal, f: RunFilter): Reach {
  // all=true follows canAccess: only a credential that may open any user's run (an admin token) lists them.
  if (f.all === 'true' && !p.instanceWide) throw new ApiError(403, 'all=true needs an admin token', 'admin_required')
  const sources = RUN_SOURCES.filter((s) => readable(p, s) && (!f.source || f.source === s))
  // A filter on a source the credential cannot read says so instead of answering an empty list.
  if (f.source && !sources.length) throw new ApiError(403, `This credential lacks the "${RUN_SCOPES[f.source].read}" scope`, 'missing_scope')
  return { ownerId: f.all === 'true' ? null : p.userId, workspaceId: p.workspaceId, sources }
}

export const inReach = (r: Reach, f: RunFilter, run: RunView) =>
  (r.ownerId === null || run.owner_id === r.ownerId) && (r.workspaceId === null || run.workspace_id === r.workspaceId)
  && r.sources.includes(run.source) && (!f.source_id || run.source_id === f.source_id)

export const itemOf = (r: RunView) => ({
  id: r.id, source: r.source, source_id: r.source_id, status: r.status, mode: r.mode, model: r.model,
  tokens_input: r.tokens_input, tokens_output: r.tokens_output, cost_cents: toCents(r.cost_micro), latency_ms: r.latency_ms,
  error: r.error, error_code: r.error_code, created_at: r.created_at, started_at: r.started_at, finished_at: r.finished_at,
})

const encodeCursor = (r: RunView) => Buffer.from(`${r.created_at}|${r.id}`).toString('base64url')
function decodeCursor(c: string) {
  const [createdAt, id, extra] = Buffer.from(c, 'base64url').toString().split('|')
  if (!createdAt || !id || extra !== undefined) throw badRequest('Invalid cursor: pass next_cursor from the previous page', { cursor: 'invalid' })
  return { createdAt, id }
}

export function list(k: Kernel, p: Principal, f: RunFilter & { limit?: number; cursor?: string }) {
  const reach = reachOf(p, f)
  const limit = f.limit ?? 50
  const rows = k.runs.page({
    ...reach, status: f.status, sourceId: f.source_id, before: f.cursor ? decodeCursor(f.cursor) : undefined, limit: limit + 1,
  })
  const more = rows.length > limit
  const page = more ? rows.slice(0, limit) : rows
  return { runs: page.map(itemOf), next_cursor: more ? encodeCursor(page[page.length - 1]) : null }
}
