import type { Kernel } from '../kernel'
import type { JsonSchema, ToolContext, ToolDefinition, ToolResult, ToolSet } from '../agent/types'
import { ApiError } from '../http/errors'
import { newId } from '../db/ids'
import { builtinTools } from './builtins'
import { validateArgs } from './schema'
import { recordToolCall } from './audit'

/**
 * A tool offered by a provider (workspace MCP servers, the owner's connections). The composer makes
 * names unique; `run` does the work. Providers live in plugins and register here, so src/ never
 * imports plugins/ (DESIGN §3).
 */
export interface ProvidedTool {
  /** Preferred readable name (`github_list_issues`, `everything_echo`); made unique by the composer. */
  name: string
  description: string
  inputSchema: JsonSchema
  /** `builtin`, `mcp:<serverId>`, `connection:<connectionId>`. */
  source: string
  kind: 'builtin' | 'mcp' | 'connection'
  /** The MCP server's or connection's name; the platform for connections. */
  sourceName?: string
  platform?: string
  /** false: listed only with include_all (needs a connection, server disabled, ...). */
  available: boolean
  unavailableReason?: string
  /** Literal secrets involved in the call, redacted from the audit log. */
  secrets?: () => string[]
  run?: (args: Record<string, unknown>, ctx: ToolContext) => Promise<ToolResult>
}

export interface ToolProvider {
  name: string
  /** Lower runs first and so keeps the plain name on a collision. */
  order: number
  tools(ownerId: string, workspaceId: string | null, opts: { includeAll: boolean }): Promise<ProvidedTool[]>
}

/** Registers a provider on the kernel's tool registry; call from the domain's register(k). */
export const registerToolProvider = (k: Kernel, p: ToolProvider) => k.tools.register(p)

/**
 * Catalogs are cached per (owner, workspace) and rebuilt when anything they are made of changes: stores
 * of MCP servers and connections call `toolsChanged(db)` after every write. A short TTL covers changes
 * that bypass them (a workspace deleted with its servers by cascade).
 */
const versions = new WeakMap<object, number>()
export const toolsChanged = (db: object) => { versions.set(db, (versions.get(db) ?? 0) + 1) }
const CATALOG_TTL_MS = 10_000
const CATALOG_CACHE_MAX = 1000

export interface CatalogEntry extends ProvidedTool { name: string; originalName: string }

export interface InvokeResult {
  call_id: string
  tool: string
  success: boolean
  latency_ms: number
  result: ToolResult
  error: string | null
}

export interface ToolSetOptions {
  /** Who is calling (user, token or bot account id), for the audit log. */
  actor?: string | null
  /** Per-call timeout; default 30 s, at most 120 s. */
  timeoutMs?: number
  /** Max characters of result text given back; default 100,000. */
  maxResultChars?: number
}

export const DEFAULT_TOOL_TIMEOUT_MS = 30_000
export const MAX_TOOL_TIMEOUT_MS = 120_000
const DEFAULT_MAX_RESULT_CHARS = 100_000
const MAX_DATA_CHARS = 256 * 1024
const MAX_FILES_CHARS = 16 * 1024 * 1024
const MAX_NAME = 64

/** Lowercase snake slug for tool names: `GitHub Issues!` -> `github_issues`. */
export const toolSlug = (s: string) => s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'tool'

/** Unique names in catalog order: later duplicates get `_2`, `_3`, ...; all within 64 chars (provider limits). */
function uniqueNames(entries: ProvidedTool[]): CatalogEntry[] {
  const taken = new Set<string>()
  return entries.map((e) => {
    const base = e.name.slice(0, MAX_NAME)
    let name = base
    for (let n = 2; taken.has(name); n++) name = `${base.slice(0, MAX_NAME - String(n).length - 1)}_${n}`
    taken.add(name)
    return { ...e, name, originalName: e.name }
  })
}

function capResult(r: ToolResult, maxChars: number): ToolResult {
  let content = typeof r.content === 'string' ? r.content : JSON.stringify(r.content)
  if (content.length > maxChars) content = `${content.slice(0, maxChars)}\n…[truncated: the result had ${content.length} characters]`
  let data = r.data
  if (data !== undefined) {
    try { if (JSON.stringify(data).length > MAX_DATA_CHARS) data = undefined } catch { data = undefined }
  }
  // Binary parts are kept up to MAX_FILES_CHARS of base64 in all (a larger file is dropped; the text says what it was).
  let room = MAX_FILES_CHARS
  const files = r.files?.filter((f) => typeof f?.data === 'string' && (room -= f.data.length) >= 0)
  return { content, isError: r.isError ?? false, ...(data !== undefined ? { data } : {}), ...(files?.length ? { files } : {}) }
}

/**
 * The tools of a workspace, for agents and the tool API: built-ins, then the owner's connections,
 * then the workspace's MCP servers. Every call is validated, bounded (timeout, result size) and audited.
 */
export class WorkspaceToolSet implements ToolSet {
  private cached: CatalogEntry[] | null = null

  constructor(private k: Kernel, readonly ownerId: string, readonly workspaceId: string | null, private opts: ToolSetOptions = {}) {}

  /** Everything; `includeAll` adds tools that need configuration (marked unavailable). */
  async catalog(includeAll = false): Promise<CatalogEntry[]> {
    if (includeAll) return this.build(true)
    const key = `${this.ownerId}\0${this.workspaceId ?? ''}`
    const cache = this.k.tools.catalogs
    const version = versions.get(this.k.db) ?? 0
    const now = this.k.clock.now()
    const hit = cache.get(key)
    if (hit && hit.version === version && now - hit.at < CATALOG_TTL_MS) return (this.cached = hit.named)
    const named = await this.build(false)
    if (cache.size >= CATALOG_CACHE_MAX) cache.delete(cache.keys().next().value!)
    cache.set(key, { version, at: now, named }) // the version read before building: a change meanwhile forces a rebuild
    return (this.cached = named)
  }

  private async build(includeAll: boolean): Promise<CatalogEntry[]> {
    const builtins = builtinTools(this.k)
    const entries: ProvidedTool[] = (await builtins.list()).map((d) => ({
      name: d.name, description: d.description, inputSchema: d.inputSchema, source: 'builtin', kind: 'builtin', available: true,
      run: (args, ctx) => builtins.call(d.name, args, ctx),
    }))
    const list = [...this.k.tools.providers.values()].sort((a, b) => a.order - b.order)
    for (const p of list) {
      try {
        entries.push(...await p.tools(this.ownerId, this.workspaceId, { includeAll }))
      } catch (err) {
        this.k.log.warn('tool provider failed', { provider: p.name, error: (err as Error).message })
      }
    }
    // Available tools claim names first, so a tool that needs configuration never renames a usable one.
    return uniqueNames([...entries.filter((e) => e.available), ...(includeAll ? entries.filter((e) => !e.available) : [])])
  }

  async list(): Promise<ToolDefinition[]> {
    return (this.cached ?? await this.catalog()).map((e) => ({ name: e.name, description: e.description, inputSchema: e.inputSchema, source: e.source }))
  }

  /** The tool by its exposed name, with arguments checked against its schema (404 unknown, 400 invalid). */
  async prepare(name: string, args: unknown): Promise<CatalogEntry> {
    const tool = (this.cached ?? await this.catalog()).find((e) => e.name === name)
    if (!tool || !tool.run) {
      const known = (await this.catalog(true)).find((e) => e.name === name)
      if (known) throw new ApiError(409, `Tool "${name}" is not available: ${known.unavailableReason ?? 'it needs configuration'}`, 'tool_unavailable')
      throw new ApiError(404, `Unknown tool "${name}"; GET /api/mcp/tools lists the tools you can call`, 'unknown_tool')
    }
    validateArgs(name, tool.inputSchema, args)
    return tool
  }

  async call(name: string, args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> {
    const out = await this.invoke(name, args, ctx)
    return out.result
  }

  /**
   * Runs one call: validate, run under a timeout, cap the result, audit. Tool-reported failures come
   * back as `success: false`; infrastructure failures (unreachable, timed out) throw an ApiError after
   * being audited. Nothing a tool does can escape as an unhandled rejection.
   */
  async invoke(name: string, args: Record<string, unknown>, ctx: ToolContext, callId = newId('tcall')): Promise<InvokeResult> {
    const tool = await this.prepare(name, args)
    const timeoutMs = Math.min(this.opts.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS, MAX_TOOL_TIMEOUT_MS)
    const started = performance.now()
    const abort = new AbortController()
    const onAbort = () => abort.abort(ctx.signal?.reason)
    if (ctx.signal?.aborted) abort.abort(ctx.signal.reason)
    else ctx.signal?.addEventListener('abort', onAbort, { once: true })
    let timer: ReturnType<typeof setTimeout> | undefined
    let result: ToolResult | null = null
    let failure: ApiError | null = null
    try {
      const work = tool.run!(args, { ...ctx, signal: abort.signal })
      work.catch(() => {}) // a late rejection after the timeout must not become unhandled
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new ApiError(504, `Tool "${name}" timed out after ${timeoutMs} ms`, 'tool_timeout'))
          abort.abort(new Error('timeout')) // after the reject, so the race reports the timeout
        }, timeoutMs)
      })
      const cancelled = new Promise<never>((_, reject) => {
        abort.signal.addEventListener('abort', () => reject(new ApiError(499, `Tool "${name}" was cancelled`, 'cancelled')), { once: true })
      })
      cancelled.catch(() => {})
      result = capResult(await Promise.race([work, timeout, cancelled]), this.opts.maxResultChars ?? DEFAULT_MAX_RESULT_CHARS)
    } catch (err) {
      failure = err instanceof ApiError ? err : new ApiError(502, `Tool "${name}" failed: ${(err as Error)?.message ?? String(err)}`, 'tool_failed')
    } finally {
      clearTimeout(timer)
      ctx.signal?.removeEventListener('abort', onAbort)
    }
    const latency = performance.now() - started
    const success = !failure && !result!.isError
    const error = failure ? failure.message : success ? null : result!.content.slice(0, 1000)
    try {
      recordToolCall(this.k, {
        id: callId, ownerId: this.ownerId, workspaceId: this.workspaceId, actor: this.opts.actor ?? null, surface: ctx.surface ?? 'api',
        runId: ctx.runId ?? null, tool: name, source: tool.source, success, latencyMs: latency, error,
        arguments: args, result: result ? (result.data ?? result.content) : undefined, secrets: safeSecrets(tool),
      })
    } catch (err) {
      this.k.log.error('tool audit failed', { tool: name, error: (err as Error).message })
    }
    if (failure) throw failure
    return { call_id: callId, tool: name, success, latency_ms: Math.round(latency * 10) / 10, result: result!, error }
  }
}

function safeSecrets(tool: ProvidedTool): string[] {
  try { return tool.secrets?.() ?? [] } catch { return [] }
}

/** `workspaceToolSet(k, ownerId, workspaceId)`: the ToolSet agents in a workspace get (DESIGN §2). */
export const workspaceToolSet = (k: Kernel, ownerId: string, workspaceId: string | null, opts?: ToolSetOptions) =>
  new WorkspaceToolSet(k, ownerId, workspaceId, opts)
