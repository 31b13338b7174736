import type { Kernel } from '../kernel'
import { badRequest } from '../http/errors'
import type { ToolContext, ToolDefinition, ToolResult, ToolSet } from '../agent/types'
import { workspaceToolSet, type CatalogEntry, type WorkspaceToolSet } from './workspace-tools'

/**
 * A per-agent tool allow-list ("skills", issue 15) over the workspace's tools. An entry is a tool name, an MCP
 * server id (`mcp_...`: all its tools) or a connection id (`con_...`: all its tools). `null` = every tool.
 */
export type ToolAllowList = string[] | null

export function allowsTool(allow: string[], e: Pick<CatalogEntry, 'name' | 'source'>): boolean {
  if (allow.includes(e.name)) return true
  const src = e.source ?? ''
  if (src.startsWith('mcp:')) return allow.includes(src.slice(4))
  if (src.startsWith('connection:')) return allow.includes(src.slice(11))
  return false
}

/** Parses the stored column (JSON array text or NULL). */
export const parseAllowList = (v: string | null | undefined): ToolAllowList => {
  if (v === null || v === undefined) return null
  try {
    const a = JSON.parse(v)
    return Array.isArray(a) ? a.filter((x): x is string => typeof x === 'string') : null
  } catch {
    return null
  }
}

/** The workspace tools narrowed to the allow-list: the model is offered only these, and any other call is refused. */
export function restrictTools(inner: WorkspaceToolSet, allow: ToolAllowList): ToolSet {
  if (allow === null) return inner
  return {
    async list(): Promise<ToolDefinition[]> {
      return (await inner.catalog()).filter((e) => allowsTool(allow, e))
        .map((e) => ({ name: e.name, description: e.description, inputSchema: e.inputSchema, source: e.source }))
    },
    async call(name: string, args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> {
      const entry = (await inner.catalog()).find((e) => e.name === name)
      if (!entry || !allowsTool(allow, entry)) return { content: `Tool "${name}" is not installed on this agent`, isError: true }
      return inner.call(name, args, ctx)
    },
  }
}

/**
 * Checks skills against what the workspace has (tool names, MCP server ids, connection ids; tools that need
 * configuration count). Returns them deduplicated; 400 naming every unknown one.
 */
export async function checkSkills(k: Kernel, ownerId: string, workspaceId: string | null, skills: string[]): Promise<string[]> {
  const catalog = await workspaceToolSet(k, ownerId, workspaceId).catalog(true)
  const known = new Set<string>()
  for (const e of catalog) {
    known.add(e.name)
    if (e.source?.startsWith('mcp:')) known.add(e.source.slice(4))
    if (e.source?.startsWith('connection:')) known.add(e.source.slice(11))
  }
  const unknown = skills.filter((s) => !known.has(s))
  if (unknown.length) {
    throw badRequest(`Unknown skill${unknown.length > 1 ? 's' : ''}: ${unknown.map((s) => `"${s}"`).join(', ')} (a skill is a tool name, an MCP server id mcp_... or a connection id con_...)`, { skills: `unknown: ${unknown.join(', ')}` })
  }
  return [...new Set(skills)]
}
