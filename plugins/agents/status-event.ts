import type { Kernel } from '../../src/kernel'

type AgentStatus = 'active' | 'paused' | 'deleted' | null

const online = (s: AgentStatus) => (s === 'active' ? 'online' : 'offline')

/**
 * /v1's agent.status.changed for a scheduled agent (type "scheduled"): online = active. `from` null = it
 * did not exist yet (deploy). Published only when online/offline flips, like bots and endpoints do.
 */
export function publishAgentStatus(k: Kernel, agentId: string, ownerId: string, from: AgentStatus, to: AgentStatus) {
  const was = online(from), now = online(to)
  if (was !== now) k.events.publish('agent.status.changed', { agent_id: agentId, type: 'scheduled', status: now, previous_status: was }, { ownerId })
}
