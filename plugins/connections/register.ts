import type { Kernel } from '../../src/kernel'
import { registerToolProvider } from '../../src/tools/workspace-tools'
import { mcpPool } from '../../src/tools/mcp-pool'
import { connectionStore } from './store'
import { connectionsProvider } from './provider'

/** The connections domain's wiring: the owner's connections as a tool provider; MCP-backed tool lists land on the rows. */
export function register(k: Kernel) {
  registerToolProvider(k, connectionsProvider(k))
  const off = mcpPool(k).onToolsChanged((key, fingerprint, tools) => {
    const m = /^(con_[^:]+):(\d+)$/.exec(fingerprint)
    if (!key.startsWith('con_') || !m) return
    try { connectionStore(k.db).setTools(m[1], Number(m[2]), tools) } catch { /* closing */ }
  })
  k.onClose(off)
}
