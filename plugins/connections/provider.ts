import type { Kernel } from '../../src/kernel'
import type { ToolContext, ToolResult } from '../../src/agent/types'
import { nowIso } from '../../src/clock'
import type { ProvidedTool, ToolProvider } from '../../src/tools/workspace-tools'
import { PLATFORMS, platformById } from './platforms/index'
import { PlatformError, type Config, type Platform } from './platforms/types'
import { configSecrets, openConfig, toolPrefix } from './service'
import { connectionStore, type ConnectionRow } from './store'

/** Runs one platform operation. A platform's refusal is a tool error the model sees; refused credentials expire the connection. */
async function runTool(k: Kernel, r: ConnectionRow, p: Platform, config: Config, op: string, args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> {
  try {
    return await p.call({ k, config, signal: ctx.signal, onProgress: ctx.onProgress, connection: { id: r.id, name: r.name, rev: r.rev, tools: JSON.parse(r.tools) } }, op, args)
  } catch (err) {
    if (!(err instanceof PlatformError)) throw err
    if (err.auth) connectionStore(k.db).expire(r.id, err.message, nowIso(k.clock))
    return { content: err.message, isError: true }
  }
}

/**
 * The owner's connections for workspaceToolSet: each active connection's tools. With include_all, also
 * the tools of connections that are not active and of platforms not connected yet (marked unavailable).
 */
export const connectionsProvider = (k: Kernel): ToolProvider => ({
  name: 'connections',
  order: 10,
  async tools(ownerId, _workspaceId, { includeAll }) {
    const out: ProvidedTool[] = []
    const activePlatforms = new Set<string>()
    const listedPlatforms = new Set<string>()
    for (const r of connectionStore(k.db).list(ownerId)) {
      const p = platformById.get(r.platform)
      if (!p) continue
      const prefix = toolPrefix(r, activePlatforms.has(r.platform))
      const available = r.status === 'active'
      if (available) activePlatforms.add(r.platform)
      if (!available && !includeAll) continue
      listedPlatforms.add(r.platform)
      let config: Config | null = null
      const cfg = () => (config ??= openConfig(k, r))
      for (const t of p.tools(p.id === 'http' ? cfg() : null, JSON.parse(r.tools))) {
        out.push({
          name: `${prefix}_${t.op}`, description: t.description, inputSchema: t.inputSchema, source: `connection:${r.id}`, kind: 'connection',
          sourceName: r.name, platform: p.id, available,
          unavailableReason: available ? undefined : `Connection "${r.name}" is ${r.status}${r.error_message ? `: ${r.error_message}` : ''}`,
          secrets: () => configSecrets(p, cfg()),
          run: (args, ctx) => runTool(k, r, p, cfg(), t.op, args, ctx),
        })
      }
    }
    if (includeAll) {
      for (const p of PLATFORMS) {
        if (p.id === 'http' || p.id === 'mcp' || listedPlatforms.has(p.id)) continue
        for (const t of p.tools(null, [])) {
          out.push({
            name: `${p.id}_${t.op}`, description: t.description, inputSchema: t.inputSchema, source: `platform:${p.id}`, kind: 'connection', sourceName: p.name,
            platform: p.id, available: false, unavailableReason: `Needs an active ${p.name} connection (POST /api/connections with platform "${p.id}")`,
          })
        }
      }
    }
    return out
  },
})
