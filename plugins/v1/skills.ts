import type { Kernel } from '../../src/kernel'
import { badRequest } from '../../src/http/errors'
import type { Principal } from '../../src/auth/principal'
import { allowsTool, checkSkills, parseAllowList } from '../../src/tools/allow-list'
import { workspaceToolSet } from '../../src/tools/workspace-tools'
import * as bots from '../bots/service'
import * as endpoints from '../agent-endpoints/service'
import { getAgent, type AgentRow } from './directory'

/**
 * PUT /v1/agents/{id}/skills: install or remove skills (a tool name, an MCP server `mcp_...` = all its tools, a
 * connection `con_...`) on the agent's tool allow-list. An agent without a list has every workspace tool:
 * installing keeps it so; removing first writes the list out as every current tool, then takes the skill away.
 */
export async function changeSkills(k: Kernel, p: Principal, agent: AgentRow, body: { install?: string[]; remove?: string[] }) {
  if (agent.type === 'scheduled') throw badRequest('Skills apply to bots and agent endpoints; a scheduled agent runs its workflow\'s steps', { id: 'is a scheduled agent' })
  const install = body.install ?? []
  const remove = body.remove ?? []
  if (!install.length && !remove.length) throw badRequest('Give skills to install and/or remove', { install: 'install or remove must name at least one skill' })
  const workspaceId = agent.workspace_id!
  await checkSkills(k, agent.owner_id, workspaceId, [...install, ...remove])
  const current = parseAllowList(agent.tools)
  let next: string[] | null
  if (current === null && !remove.length) next = null
  else {
    const catalog = await workspaceToolSet(k, agent.owner_id, workspaceId).catalog(true)
    const base = current ?? catalog.filter((e) => e.available).map((e) => e.name)
    const removing = (skill: string) => remove.includes(skill)
      || catalog.some((e) => e.name === skill && allowsTool(remove, e)) // a tool of a removed MCP server or connection
    next = [...new Set([...base.filter((s) => !removing(s)), ...install.filter((s) => !remove.includes(s))])]
  }
  const tools = next
  k.db.transaction(() => {
    if (agent.type === 'bot') bots.update(k, p, agent.id, { tools })
    else endpoints.setTools(k, p, agent.id, tools)
    if (install.length) {
      k.events.publish('agent.skill.installed', { agent_id: agent.id, type: agent.type as 'bot' | 'endpoint', skills: install, tools: tools ?? ['*'] }, { ownerId: agent.owner_id })
    }
  })()
  return getAgent(k, agent.id)!
}

