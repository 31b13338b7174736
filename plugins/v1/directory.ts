import type { Kernel } from '../../src/kernel'
import * as bots from '../bots/service'
import * as endpoints from '../agent-endpoints/service'
import * as scheduledAgents from '../agents/service'
import { workflowSummary } from '../workflows/service'

/**
 * The agents /v1 serves, gathered from their owning domains' services (bots, agent endpoints, scheduled
 * agents): /v1 never reads those tables itself.
 */
export interface AgentRow {
  id: string; type: 'bot' | 'endpoint' | 'scheduled'; owner_id: string; workspace_id: string | null; name: string; slug: string; description: string | null
  status: string; platform: string | null; model: string; tools: string | null; created_at: string
}

const fromBot = (b: bots.BotRow): AgentRow => ({
  id: b.id, type: 'bot', owner_id: b.owner_id, workspace_id: b.workspace_id, name: b.name, slug: b.slug, description: b.description,
  status: b.status, platform: b.platform, model: b.llm_model, tools: b.tools, created_at: b.created_at,
})

const fromEndpoint = (e: endpoints.EndpointRow): AgentRow => ({
  id: e.id, type: 'endpoint', owner_id: e.owner_id, workspace_id: e.workspace_id, name: e.name, slug: e.slug, description: e.description,
  status: e.status, platform: null, model: e.llm_model, tools: e.tools, created_at: e.created_at,
})

/** A scheduled agent's model is its agent_config's `model`, else "workflow"; workspace and description are its workflow's. */
function fromScheduled(k: Kernel, a: NonNullable<ReturnType<typeof scheduledAgents.findRow>>): AgentRow {
  const wf = workflowSummary(k, a.workflow_id)
  let model: unknown = null
  try { model = JSON.parse(a.agent_config)?.model } catch { /* stored by deploy: always JSON */ }
  return {
    id: a.id, type: 'scheduled', owner_id: a.owner_id, workspace_id: wf?.workspace_id ?? null, name: a.workflow_name, slug: a.id,
    description: wf?.description ?? null, status: a.status, platform: null, model: model === null || model === undefined ? 'workflow' : String(model), tools: null, created_at: a.created_at,
  }
}

/** `kind` names the table when the caller knows it (a finished endpoint run): one lookup instead of up to three. */
export function getAgent(k: Kernel, id: string, kind?: 'endpoint'): AgentRow | null {
  if (kind === 'endpoint') { const e = endpoints.findById(k, id); if (e) return fromEndpoint(e) }
  const b = bots.findRow(k, id)
  if (b) return fromBot(b)
  const e = endpoints.findById(k, id)
  if (e) return fromEndpoint(e)
  const a = scheduledAgents.findRow(k, id)
  return a ? fromScheduled(k, a) : null
}

/** Newest first (created_at, then id), across the three kinds. */
export function listAgentRows(k: Kernel, ownerId: string | null, workspaceId: string | null): AgentRow[] {
  const all = [
    ...bots.listRows(k, ownerId, workspaceId).map(fromBot),
    ...endpoints.listRows(k, ownerId, workspaceId).map(fromEndpoint),
    ...scheduledAgents.listRows(k, ownerId).map((a) => fromScheduled(k, a)).filter((a) => workspaceId === null || a.workspace_id === workspaceId),
  ]
  return all.sort((x, y) => (x.created_at === y.created_at ? (x.id < y.id ? -1 : x.id > y.id ? 1 : 0) : x.created_at < y.created_at ? 1 : -1))
}
