import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { canAccess, hasScope, listScope, type Principal } from '../../src/auth/principal'
import type { Scope } from '../../src/auth/scopes'
import { parseAllowList } from '../../src/tools/allow-list'
import { getAgent, listAgentRows, type AgentRow } from './directory'

/**
 * A /v1 agent is any agent a token can reach: bots (`bt_`), agent endpoints (`aep_`) and scheduled agents
 * (`agt_`, a deployed workflow). `online` = active (it answers), `offline` = draft or paused.
 */

export interface AgentView {
  id: string; type: 'bot' | 'endpoint' | 'scheduled'; name: string; description: string | null; status: 'online' | 'offline'
  skills: string[]; channels: string[]; model: string; workspace_id: string | null; created_at: string
}

/** Channels an agent can be reached on. Every agent also takes /v1 messages (`api`). */
function channelsOf(a: AgentRow): string[] {
  if (a.type === 'bot') return a.platform === 'custom' ? ['api', 'web'] : ['api', a.platform!]
  if (a.type === 'scheduled') return ['api', 'schedule']
  return ['api', 'openai', 'mcp']
}

export const onlineStatus = (status: string): 'online' | 'offline' => (status === 'active' ? 'online' : 'offline')

/** skills: the allow-list, or ["*"] when the agent may use every workspace tool. */
export function toAgentView(a: AgentRow): AgentView {
  return {
    id: a.id, type: a.type, name: a.name, description: a.description, status: onlineStatus(a.status),
    skills: parseAllowList(a.tools) ?? ['*'], channels: channelsOf(a), model: a.model, workspace_id: a.workspace_id, created_at: a.created_at,
  }
}

const SCOPES: Record<AgentRow['type'], { read: Scope; run: Scope; write: Scope }> = {
  bot: { read: 'bots.read', run: 'bots.write', write: 'bots.write' },
  endpoint: { read: 'endpoints.read', run: 'endpoints.run', write: 'endpoints.write' },
  scheduled: { read: 'agents.read', run: 'agents.write', write: 'agents.write' },
}
const readScope = (type: AgentRow['type']): Scope => SCOPES[type].read

/** Agents the token may read (bots with bots.read, endpoints with endpoints.read), newest first. */
export function listAgents(k: Kernel, p: Principal): AgentView[] {
  const { ownerId, workspaceId } = listScope(p)
  return listAgentRows(k, ownerId, workspaceId).filter((a) => hasScope(p, readScope(a.type))).map(toAgentView)
}

/** The agent if the token may reach it; 404 otherwise (also for another's agent). `need` checks a scope (401 on /v1). */
export function requireAgent(k: Kernel, p: Principal, id: string, need: 'read' | 'run' | 'write' = 'read'): AgentRow {
  const a = getAgent(k, id)
  if (!a || !canAccess(p, a.owner_id, a.workspace_id) || (!hasScope(p, readScope(a.type)) && need === 'read')) throw new ApiError(404, 'Agent not found', 'not_found')
  const scope = SCOPES[a.type][need]
  if (!hasScope(p, scope)) throw new ApiError(403, `This token lacks the "${scope}" scope`, 'missing_scope')
  return a
}
