import type { Kernel } from '../../src/kernel'
import { mcpBinaryParts, mcpPool, mcpResultText, type McpTool } from '../../src/tools/mcp-pool'
import { MAX_TOOL_TIMEOUT_MS, toolSlug, type ProvidedTool, type ToolProvider } from '../../src/tools/workspace-tools'
import { mcpStore, type McpServerRow } from './store'
import { refreshTools, serverSecrets, targetOf } from './service'

/** Tools of one MCP server (a workspace server or a user-level `mcp` connection) as catalog entries. */
export function mcpServerTools(k: Kernel, r: McpServerRow, tools: McpTool[], available: boolean, reason?: string): ProvidedTool[] {
  return tools.map((tool) => ({
    name: `${r.slug}_${toolSlug(tool.name)}`,
    description: tool.description || `${tool.name} (MCP server ${r.name})`,
    inputSchema: tool.inputSchema,
    source: `mcp:${r.id}`,
    kind: 'mcp',
    sourceName: r.name,
    available,
    unavailableReason: reason,
    secrets: () => serverSecrets(k, r),
    run: async (args, ctx) => {
      // The tool set's own timeout governs; the pool's is only a backstop.
      const res = await mcpPool(k).callTool(targetOf(k, r), tool.name, args, { signal: ctx.signal, timeoutMs: MAX_TOOL_TIMEOUT_MS + 5000, onProgress: ctx.onProgress })
      return { content: mcpResultText(res), isError: !!res.isError, data: res.structuredContent ?? undefined, files: mcpBinaryParts(res) }
    },
  }))
}

/** Parsed tool lists by server, reused while the stored text is unchanged (a call builds the catalog each time). */
const parsed = new Map<string, { raw: string; tools: McpTool[] }>()
function toolsOf(r: McpServerRow): McpTool[] {
  const hit = parsed.get(r.id)
  if (hit && hit.raw === r.tools) return hit.tools
  const tools = JSON.parse(r.tools) as McpTool[]
  if (parsed.size > 1000) parsed.clear()
  parsed.set(r.id, { raw: r.tools, tools })
  return tools
}

/** The workspace's MCP servers for workspaceToolSet. A workspace only offers tools its owner can see. */
export const mcpServersProvider = (k: Kernel): ToolProvider => ({
  name: 'mcp-servers',
  order: 20,
  async tools(ownerId, workspaceId, { includeAll }) {
    if (!workspaceId) return []
    const store = mcpStore(k.db)
    const out: ProvidedTool[] = []
    for (let r of store.byWorkspace(workspaceId)) {
      if (r.owner_id !== ownerId) continue
      if (!r.enabled) {
        if (includeAll) out.push(...mcpServerTools(k, r, toolsOf(r), false, `MCP server "${r.name}" is disabled`))
        continue
      }
      if (!r.tools_refreshed_at && r.status === 'pending') r = await refreshTools(k, r) // never tried yet: try once now
      out.push(...mcpServerTools(k, r, toolsOf(r), true))
    }
    return out
  },
})
