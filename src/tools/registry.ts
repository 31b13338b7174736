import type { CatalogEntry, ToolProvider } from './workspace-tools'

/**
 * The kernel's tool registry (`k.tools`): providers registered by domains' register(k) (workspace MCP
 * servers, connections) and the per-(owner, workspace) catalog cache built from them.
 */
export class ToolRegistry {
  readonly providers = new Map<string, ToolProvider>()
  readonly catalogs = new Map<string, { version: number; at: number; named: CatalogEntry[] }>()

  register(p: ToolProvider) { this.providers.set(p.name, p) }
}
