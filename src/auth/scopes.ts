/**
 * The one scope catalog (`<domain>.<action>`). Every route declares the scope it needs; a key with no
 * scopes has its type's whole reach. Domains add their scopes here.
 */
export const SCOPES = {
  'workspaces.read': 'List and read workspaces',
  'workspaces.write': 'Create, change and delete workspaces',
  'bots.read': 'List and read bots, templates and their settings',
  'bots.write': 'Create, change, activate, pause, test and delete bots',
  'endpoints.read': 'List and read agent endpoints and their runs',
  'endpoints.write': 'Create, change and delete agent endpoints',
  'endpoints.run': 'Run agent endpoints and read run results',
  'conversations.read': 'Read bot conversations',
  'chat.read': 'List and read chat conversations, messages, files, tools and providers',
  'chat.write': 'Create chat conversations and send messages',
  'tools.read': 'List tools, MCP servers and the call audit log',
  'tools.call': 'Call tools',
  'connections.read': 'List platform connections',
  'connections.write': 'Create, change, test and delete platform connections',
  'workflows.read': 'List and read workflows and executions',
  'workflows.write': 'Create, change and delete workflows',
  'workflows.run': 'Execute workflows',
  'agents.read': 'List and read scheduled agents',
  'agents.write': 'Create, change and run scheduled agents',
  'webhooks.manage': 'Manage outbound webhooks and their deliveries',
  'memory.read': 'Read bot account memory',
  'memory.write': 'Write bot account memory',
  'analytics.read': 'Read analytics, usage and costs',
  'wallet.read': 'Read the wallet balance and ledger',
} as const

export type Scope = keyof typeof SCOPES
export const ALL_SCOPES = Object.keys(SCOPES) as Scope[]
export const READ_ONLY_SCOPES = ALL_SCOPES.filter((s) => s.endsWith('.read'))
export const isScope = (s: string): s is Scope => s in SCOPES

/** 400 message for unknown scope names, listing the valid ones. */
export function unknownScopes(scopes: string[]): string | null {
  const bad = scopes.filter((s) => !isScope(s))
  return bad.length ? `Unknown scope${bad.length > 1 ? 's' : ''} ${bad.map((s) => `"${s}"`).join(', ')}; valid scopes: ${ALL_SCOPES.join(', ')}` : null
}
