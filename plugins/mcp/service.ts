import type { Kernel } from '../../src/kernel'
import { ApiError, badRequest, conflict, notFound } from '../../src/http/errors'
import type { Principal } from '../../src/auth/principal'
import { newId } from '../../src/db/ids'
import { nowIso } from '../../src/clock'
import { mcpPool, type McpTarget, type McpTool } from '../../src/tools/mcp-pool'
import { toolSlug } from '../../src/tools/workspace-tools'
import * as workspaces from '../workspaces/service'
import { mcpStore, type McpServerRow } from './store'
import type { CreateMcpServerInput, McpServerView, UpdateMcpServerInput } from './model'

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const SLUG_MAX = 30

export function toView(r: McpServerRow): McpServerView {
  const tools = JSON.parse(r.tools) as McpTool[]
  return {
    id: r.id, workspace_id: r.workspace_id, name: r.name, slug: r.slug, transport: r.transport, url: r.url, command: r.command,
    args: JSON.parse(r.args), has_headers: !!r.headers_sealed, header_names: JSON.parse(r.header_names), has_env: !!r.env_sealed,
    env_names: JSON.parse(r.env_names), enabled: !!r.enabled, status: r.enabled ? r.status : 'disabled', error_message: r.enabled ? r.error_message : null,
    tool_count: tools.length, tools: tools.map((x) => ({ name: `${r.slug}_${toolSlug(x.name)}`, mcp_name: x.name, description: x.description })),
    tools_refreshed_at: r.tools_refreshed_at, created_at: r.created_at, updated_at: r.updated_at,
  }
}

/** How the pool reaches a server; the fingerprint changes with every connection-relevant change (rev). */
export function targetOf(k: Kernel, r: McpServerRow): McpTarget {
  return {
    key: r.id, label: r.name, transport: r.transport, url: r.url,
    headers: k.secrets.openJson<Record<string, string>>(r.headers_sealed), command: r.command, args: JSON.parse(r.args),
    env: k.secrets.openJson<Record<string, string>>(r.env_sealed), stdioAllowed: mcpStore(k.db).ownerRole(r.owner_id) === 'admin',
    fingerprint: targetFingerprint(r),
  }
}

export const targetFingerprint = (r: Pick<McpServerRow, 'id' | 'rev'>) => `${r.id}:${r.rev}`

export const serverSecrets = (k: Kernel, r: McpServerRow) => [
  ...Object.values(k.secrets.openJson<Record<string, string>>(r.headers_sealed) ?? {}),
  ...Object.values(k.secrets.openJson<Record<string, string>>(r.env_sealed) ?? {}),
]

function requireServer(k: Kernel, who: Principal, workspaceId: string, serverId: string): McpServerRow {
  const ws = workspaces.requireOwned(k, who, workspaceId)
  const r = mcpStore(k.db).get(serverId)
  if (!r || r.workspace_id !== ws.id) throw notFound('MCP server')
  return r
}

function checkMap(field: 'headers' | 'env', map: Record<string, string> | null | undefined) {
  if (!map) return
  const names = Object.keys(map)
  if (names.length > 50) throw badRequest(`${field} may have at most 50 entries`, { [field]: 'too many entries' })
  for (const [name, value] of Object.entries(map)) {
    if (!(field === 'headers' ? HEADER_NAME : ENV_NAME).test(name)) throw badRequest(`${field}.${name} is not a valid ${field === 'headers' ? 'header' : 'environment variable'} name`, { [`${field}.${name}`]: 'invalid name' })
    if (/[\r\n\0]/.test(value)) throw badRequest(`${field}.${name} must not contain line breaks`, { [`${field}.${name}`]: 'invalid value' })
  }
}

/** Transport rules: http needs a URL that passes the outbound guard; stdio needs the flag and an admin owner. */
async function checkTransport(k: Kernel, who: Principal, ownerId: string, r: Pick<McpServerRow, 'transport' | 'url' | 'command'>, input: { headers?: unknown; env?: unknown; args?: unknown }) {
  if (r.transport === 'http') {
    if (!r.url) throw badRequest('url is required for an http MCP server', { url: 'is required' })
    if (r.command || input.env || (input.args as unknown[] | undefined)?.length) throw badRequest('command, args and env are only for stdio MCP servers', { command: 'only for stdio' })
    await k.outbound.check(r.url)
    return
  }
  if (!k.config.allowStdioMcp) throw new ApiError(403, 'stdio MCP servers are disabled on this instance (AGENTBASE_ALLOW_STDIO_MCP is off)', 'stdio_disabled')
  if (who.role !== 'admin') throw new ApiError(403, 'Only admins may add stdio MCP servers (they run local commands)', 'admin_required')
  if (mcpStore(k.db).ownerRole(ownerId) !== 'admin') throw new ApiError(403, "stdio MCP servers can only live in an admin's workspace", 'admin_required')
  if (!r.command) throw badRequest('command is required for a stdio MCP server', { command: 'is required' })
  if (r.url || input.headers) throw badRequest('url and headers are only for http MCP servers', { url: 'only for http' })
}

/** Connects and lists tools, recording the outcome (status connected, or error with the reason). */
export async function refreshTools(k: Kernel, r: McpServerRow): Promise<McpServerRow> {
  const store = mcpStore(k.db)
  try {
    const tools = await mcpPool(k).listTools(targetOf(k, r), { refresh: true })
    if (store.get(r.id)?.rev === r.rev) store.setTools(r.id, tools, nowIso(k.clock))
  } catch (err) {
    if (store.get(r.id)?.rev === r.rev) store.setStatus(r.id, 'error', (err as Error).message)
  }
  return store.get(r.id) ?? r
}

export function list(k: Kernel, who: Principal, workspaceId: string): McpServerView[] {
  const ws = workspaces.requireOwned(k, who, workspaceId)
  return mcpStore(k.db).byWorkspace(ws.id).map(toView)
}

export const get = (k: Kernel, who: Principal, workspaceId: string, serverId: string) => toView(requireServer(k, who, workspaceId, serverId))

function slugFor(k: Kernel, workspaceId: string, name: string, exceptId: string | null) {
  const slug = toolSlug(name).slice(0, SLUG_MAX).replace(/_+$/, '')
  if (mcpStore(k.db).slugTaken(workspaceId, slug, exceptId)) throw conflict(`An MCP server named like "${name}" already exists in this workspace (tool prefix "${slug}")`)
  return slug
}

export async function create(k: Kernel, who: Principal, workspaceId: string, input: CreateMcpServerInput): Promise<McpServerView> {
  const ws = workspaces.requireOwned(k, who, workspaceId)
  const transport = input.transport ?? (input.command ? 'stdio' : 'http')
  checkMap('headers', input.headers)
  checkMap('env', input.env)
  await checkTransport(k, who, ws.owner_id, { transport, url: input.url ?? null, command: input.command ?? null }, input)
  const slug = slugFor(k, ws.id, input.name, null)
  const now = nowIso(k.clock)
  const row: McpServerRow = {
    id: newId('mcp'), owner_id: ws.owner_id, workspace_id: ws.id, name: input.name, slug, transport, url: input.url ?? null,
    command: input.command ?? null, args: JSON.stringify(input.args ?? []), headers_sealed: input.headers && Object.keys(input.headers).length ? k.secrets.sealJson(input.headers) : null,
    header_names: JSON.stringify(Object.keys(input.headers ?? {})), env_sealed: input.env && Object.keys(input.env).length ? k.secrets.sealJson(input.env) : null,
    env_names: JSON.stringify(Object.keys(input.env ?? {})), enabled: input.enabled === false ? 0 : 1, status: 'pending', error_message: null,
    tools: '[]', tools_refreshed_at: null, rev: 1, created_at: now, updated_at: now,
  }
  mcpStore(k.db).insert(row)
  return toView(row.enabled ? await refreshTools(k, row) : row)
}

export async function update(k: Kernel, who: Principal, workspaceId: string, serverId: string, patch: UpdateMcpServerInput): Promise<McpServerView> {
  const cur = requireServer(k, who, workspaceId, serverId)
  checkMap('headers', patch.headers)
  checkMap('env', patch.env)
  const next: McpServerRow = { ...cur }
  if (patch.name !== undefined && patch.name !== cur.name) { next.name = patch.name; next.slug = slugFor(k, cur.workspace_id, patch.name, cur.id) }
  if (patch.transport !== undefined) next.transport = patch.transport
  if (patch.url !== undefined) next.url = patch.url
  if (patch.command !== undefined) next.command = patch.command
  if (patch.args !== undefined) next.args = JSON.stringify(patch.args)
  if (patch.headers !== undefined) {
    next.headers_sealed = patch.headers && Object.keys(patch.headers).length ? k.secrets.sealJson(patch.headers) : null
    next.header_names = JSON.stringify(Object.keys(patch.headers ?? {}))
  }
  if (patch.env !== undefined) {
    next.env_sealed = patch.env && Object.keys(patch.env).length ? k.secrets.sealJson(patch.env) : null
    next.env_names = JSON.stringify(Object.keys(patch.env ?? {}))
  }
  if (patch.enabled !== undefined) next.enabled = patch.enabled ? 1 : 0
  // Switching transport drops the other transport's settings.
  if (patch.transport === 'http' && cur.transport !== 'http') Object.assign(next, { command: null, args: '[]', env_sealed: null, env_names: '[]' })
  if (patch.transport === 'stdio' && cur.transport !== 'stdio') Object.assign(next, { url: null, headers_sealed: null, header_names: '[]' })
  const reconnect = ['transport', 'url', 'command', 'args', 'headers', 'env'].some((f) => (patch as Record<string, unknown>)[f] !== undefined) || (!!next.enabled && !cur.enabled)
  if (reconnect) { // disabling, renaming: no checks (an admin can always switch a stdio server off)
    await checkTransport(k, who, cur.owner_id, next, { headers: next.headers_sealed ? 1 : undefined, env: next.env_sealed ? 1 : undefined, args: JSON.parse(next.args) })
  }
  next.updated_at = nowIso(k.clock)
  if (reconnect) { next.status = 'pending'; next.error_message = null; next.rev = cur.rev + 1 }
  mcpStore(k.db).update(next)
  if (reconnect || !next.enabled) mcpPool(k).forget(cur.id)
  return toView(reconnect && next.enabled ? await refreshTools(k, next) : mcpStore(k.db).get(cur.id)!)
}

export function remove(k: Kernel, who: Principal, workspaceId: string, serverId: string) {
  const r = requireServer(k, who, workspaceId, serverId)
  mcpStore(k.db).remove(r.id)
  mcpPool(k).forget(r.id)
}

export async function refresh(k: Kernel, who: Principal, workspaceId: string, serverId: string): Promise<McpServerView> {
  const r = requireServer(k, who, workspaceId, serverId)
  if (!r.enabled) throw new ApiError(409, 'This MCP server is disabled; enable it first', 'disabled')
  return toView(await refreshTools(k, r))
}

/**
 * Adds an http MCP server without connecting: synchronous, so the bots setup wizard can run it inside its
 * one transaction (workspace + servers + bot). Status stays `pending`; the tool provider lists its tools
 * on first use (and the pool applies the outbound guard at connect time). Added by the bots engineer.
 */
export function attachHttpServer(k: Kernel, who: Principal, workspaceId: string, input: { name: string; url: string }): McpServerView {
  const ws = workspaces.requireOwned(k, who, workspaceId)
  let url: URL
  try { url = new URL(input.url) } catch { throw badRequest(`Invalid MCP server URL "${input.url}"`, { url: 'must be an http(s) URL' }) }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest(`MCP server URL "${input.url}" must use http or https`, { url: 'must be an http(s) URL' })
  const now = nowIso(k.clock)
  const row: McpServerRow = {
    id: newId('mcp'), owner_id: ws.owner_id, workspace_id: ws.id, name: input.name, slug: slugFor(k, ws.id, input.name, null), transport: 'http',
    url: input.url, command: null, args: '[]', headers_sealed: null, header_names: '[]', env_sealed: null, env_names: '[]', enabled: 1,
    status: 'pending', error_message: null, tools: '[]', tools_refreshed_at: null, rev: 1, created_at: now, updated_at: now,
  }
  mcpStore(k.db).insert(row)
  return toView(row)
}
