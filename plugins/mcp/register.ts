import type { Kernel } from '../../src/kernel'
import { mcpPool } from '../../src/tools/mcp-pool'
import { nowIso } from '../../src/clock'
import { registerToolProvider } from '../../src/tools/workspace-tools'
import { targetFingerprint } from './service'
import { mcpStore } from './store'
import { mcpServersProvider } from './provider'

/** The MCP domain's wiring: workspace servers as a tool provider; pool status and tool lists land on the server rows. */
export function register(k: Kernel) {
  registerToolProvider(k, mcpServersProvider(k))
  const off = mcpPool(k).onStatus((key, status, error) => {
    if (!key.startsWith('mcp_') || status === 'idle') return
    try { mcpStore(k.db).setStatus(key, status, error) } catch { /* closing */ }
  })
  const offTools = mcpPool(k).onToolsChanged((key, fingerprint, tools) => {
    if (!key.startsWith('mcp_')) return
    try {
      const r = mcpStore(k.db).get(key)
      if (r && targetFingerprint(r) === fingerprint) mcpStore(k.db).setTools(key, tools, nowIso(k.clock))
    } catch { /* closing */ }
  })
  k.onClose(() => { off(); offTools() })
  k.metrics.gauge('agentbase_mcp_connections', () => mcpPool(k).size)
}
