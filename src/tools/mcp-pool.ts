import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { Kernel } from '../kernel'
import type { ToolFile } from '../agent/types'
import { ApiError } from '../http/errors'
import type { JsonSchema } from '../agent/types'
import { guardedFetch, isRedirect } from './outbound'

/**
 * The MCP SDK (and the zod it brings) is loaded on first use: most instances start without any MCP
 * server, and it is the largest part of idle memory otherwise (bench/RESULTS.md, idle RSS).
 */
type Sdk = typeof import('@modelcontextprotocol/sdk/client/index.js') & typeof import('@modelcontextprotocol/sdk/client/streamableHttp.js')
  & typeof import('@modelcontextprotocol/sdk/client/sse.js') & typeof import('@modelcontextprotocol/sdk/client/stdio.js')
  & typeof import('@modelcontextprotocol/sdk/types.js')
let sdkModule: Sdk | null = null
function sdk(): Sdk {
  return (sdkModule ??= {
    ...require('@modelcontextprotocol/sdk/client/index.js'),
    ...require('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    ...require('@modelcontextprotocol/sdk/client/sse.js'),
    ...require('@modelcontextprotocol/sdk/client/stdio.js'),
    ...require('@modelcontextprotocol/sdk/types.js'),
  } as Sdk)
}
/** Errors from the SDK can only exist once it is loaded. */
const isMcpError = (err: unknown): err is InstanceType<Sdk['McpError']> => sdkModule !== null && err instanceof sdkModule.McpError

/** Where an MCP server lives and how to reach it. `fingerprint` changes whenever its config does. */
export interface McpTarget {
  /** Pool key: the server's id (`mcp_...`) or the connection's id (`con_...`). */
  key: string
  /** Human name for error messages. */
  label: string
  transport: 'http' | 'stdio'
  url?: string | null
  headers?: Record<string, string> | null
  command?: string | null
  args?: string[]
  env?: Record<string, string> | null
  /** stdio only: whether the owner may run local commands (admins). The instance flag is checked here too. */
  stdioAllowed?: boolean
  fingerprint: string
}

export interface McpTool { name: string; description: string; inputSchema: JsonSchema }
export type McpStatus = 'connected' | 'error' | 'idle'
export type McpStatusListener = (key: string, status: McpStatus, error: string | null) => void
/** A server announced a new tool list (notifications/tools/list_changed); `fingerprint` says which config it was for. */
export type McpToolsListener = (key: string, fingerprint: string, tools: McpTool[]) => void

export interface McpCallOptions {
  signal?: AbortSignal
  timeoutMs: number
  onProgress?: (p: { progress: number; total?: number; message?: string }) => void
}

interface Entry {
  fingerprint: string
  ready: Promise<Client>
  client: Client | null
  tools: McpTool[] | null
  lost: string | null
}

const CONNECT_TIMEOUT_MS = 10_000
/** Largest answer to one request (a tool result) read from an HTTP MCP server. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024
const MAX_TOOLS = 500

/** Transport-level trouble that means the connection is gone (not a tool failing). */
const fatal = (e: Error) => /SSE stream disconnected|Maximum reconnection|Failed to reconnect|ECONNRESET|socket (connection was )?closed/i.test(e.message)

/**
 * MCP clients pooled per kernel (the typed `k.mcp` service): one connection per server, shared by concurrent calls;
 * Streamable HTTP with a fallback to the older HTTP+SSE transport; stdio only for admins behind
 * AGENTBASE_ALLOW_STDIO_MCP. A dropped connection is forgotten and the next use reconnects.
 */
export class McpPool {
  private entries = new Map<string, Entry>()
  private listeners = new Set<McpStatusListener>()
  private toolListeners = new Set<McpToolsListener>()
  private statuses = new Map<string, { status: McpStatus; error: string | null }>()
  private closed = false

  constructor(private k: Kernel) {}

  onStatus(l: McpStatusListener) { this.listeners.add(l); return () => this.listeners.delete(l) }
  onToolsChanged(l: McpToolsListener) { this.toolListeners.add(l); return () => this.toolListeners.delete(l) }

  /** The server said its tools changed: re-list (cached) and tell the owners of the stored copies. */
  private serverToolsChanged(t: McpTarget) {
    this.listTools(t, { refresh: true }).then((tools) => {
      for (const l of this.toolListeners) { try { l(t.key, t.fingerprint, tools) } catch (err) { this.k.log.warn('mcp tools listener failed', { error: (err as Error).message }) } }
    }, () => { /* status already records the failure */ })
  }

  status(key: string) { return this.statuses.get(key) ?? { status: 'idle' as McpStatus, error: null } }

  get size() { return this.entries.size }

  private setStatus(key: string, status: McpStatus, error: string | null) {
    const prev = this.statuses.get(key)
    if (prev && prev.status === status && prev.error === error) return
    this.statuses.set(key, { status, error })
    if (status === 'error' && prev?.status === 'connected') this.k.log.warn('mcp server disconnected', { server: key, error })
    else if (status === 'error') this.k.log.warn('mcp server unavailable', { server: key, error })
    for (const l of this.listeners) { try { l(key, status, error) } catch (err) { this.k.log.warn('mcp status listener failed', { error: (err as Error).message }) } }
  }

  /** A guarded fetch: every request the transport makes passes the outbound guard; redirects are re-checked. */
  private guardedFetch = async (url: string | URL, init?: RequestInit) => {
    const res = await guardedFetch(String(url), init ?? {}, { guard: this.k.outbound, signal: init?.signal ?? undefined })
    if (isRedirect(res.status)) {
      // Not followed, and its body never quoted back (the SDK would put it in the error message).
      await res.body?.cancel().catch(() => {})
      throw new Error(`the server answered with a redirect (HTTP ${res.status}); redirects are not followed`)
    }
    // Answers to our requests (tool results) are capped; the long-lived GET notification stream is not.
    if ((init?.method ?? 'GET').toUpperCase() !== 'POST' || !res.body) return res
    const declared = Number(res.headers.get('content-length') ?? NaN)
    if (declared <= MAX_RESPONSE_BYTES) return res
    let n = 0
    const body = res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        n += chunk.byteLength
        if (n > MAX_RESPONSE_BYTES) c.error(new Error(`the response exceeded ${MAX_RESPONSE_BYTES / 1024 / 1024} MB`))
        else c.enqueue(chunk)
      },
    }))
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers })
  }

  private async open(t: McpTarget): Promise<Client> {
    if (this.closed) throw new ApiError(503, 'The server is shutting down', 'shutting_down')
    if (t.transport === 'stdio') {
      if (!this.k.config.allowStdioMcp) throw new ApiError(403, 'stdio MCP servers are disabled on this instance (AGENTBASE_ALLOW_STDIO_MCP is off)', 'stdio_disabled')
      if (!t.stdioAllowed) throw new ApiError(403, 'Only admins may run stdio MCP servers', 'admin_required')
      if (!t.command) throw new ApiError(400, `MCP server "${t.label}" has no command`)
      return this.connectWith(t, new (sdk().StdioClientTransport)({ command: t.command, args: t.args ?? [], env: t.env ?? undefined, stderr: 'ignore' }))
    }
    if (!t.url) throw new ApiError(400, `MCP server "${t.label}" has no URL`)
    const url = await this.k.outbound.check(t.url)
    const requestInit: RequestInit = { headers: { ...(t.headers ?? {}) } }
    try {
      return await this.connectWith(t, new (sdk().StreamableHTTPClientTransport)(url, { fetch: this.guardedFetch, requestInit, reconnectionOptions: { maxRetries: 0, initialReconnectionDelay: 200, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1 } }))
    } catch (first) {
      if (first instanceof ApiError && first.status !== 502) throw first
      // Older servers speak HTTP+SSE (GET the stream, POST to the endpoint it names).
      try {
        return await this.connectWith(t, new (sdk().SSEClientTransport)(url, { fetch: this.guardedFetch, requestInit }))
      } catch {
        throw first
      }
    }
  }

  private async connectWith(t: McpTarget, transport: Transport): Promise<Client> {
    const client = new (sdk().Client)({ name: 'agentbase', version: this.k.version }, {
      capabilities: {},
      listChanged: { tools: { autoRefresh: false, debounceMs: 100, onChanged: () => this.serverToolsChanged(t) } },
    })
    const timer = AbortSignal.timeout(CONNECT_TIMEOUT_MS)
    try {
      await client.connect(transport, { timeout: CONNECT_TIMEOUT_MS, signal: timer })
    } catch (err) {
      client.close().catch(() => {})
      const msg = (err as Error).message
      if (err instanceof ApiError) throw err
      if (timer.aborted || (isMcpError(err) && err.code === sdk().ErrorCode.RequestTimeout)) {
        throw new ApiError(504, `MCP server "${t.label}" did not answer within ${CONNECT_TIMEOUT_MS / 1000} s`, 'mcp_timeout')
      }
      throw new ApiError(502, `Could not connect to MCP server "${t.label}": ${clean(msg)}`, 'mcp_unreachable')
    }
    return client
  }

  /** The live client for a target, connecting (once, shared) when needed. */
  private client(t: McpTarget): Promise<Client> {
    const cur = this.entries.get(t.key)
    if (cur && cur.fingerprint === t.fingerprint && !cur.lost) return cur.ready
    if (cur) this.drop(t.key)
    const entry: Entry = { fingerprint: t.fingerprint, ready: null as unknown as Promise<Client>, client: null, tools: null, lost: null }
    entry.ready = this.open(t).then((client) => {
      entry.client = client
      client.onclose = () => this.lose(t.key, entry, entry.lost ?? 'the connection closed')
      client.onerror = (e) => { if (fatal(e)) this.lose(t.key, entry, clean(e.message)) }
      if (this.entries.get(t.key) !== entry) { client.close().catch(() => {}); throw new ApiError(502, `MCP server "${t.label}" was reconfigured while connecting`, 'mcp_unreachable') }
      this.setStatus(t.key, 'connected', null)
      return client
    }, (err) => {
      if (this.entries.get(t.key) === entry) this.entries.delete(t.key)
      this.setStatus(t.key, 'error', (err as Error).message)
      throw err
    })
    entry.ready.catch(() => {})
    this.entries.set(t.key, entry)
    return entry.ready
  }

  private lose(key: string, entry: Entry, reason: string) {
    if (entry.lost) return
    entry.lost = reason
    if (this.entries.get(key) === entry) this.entries.delete(key)
    this.setStatus(key, 'error', `Connection lost: ${reason}`)
    entry.client?.close().catch(() => {})
  }

  /** The server's tools; cached per connection until `refresh` or a reconnect. */
  async listTools(t: McpTarget, opts: { refresh?: boolean } = {}): Promise<McpTool[]> {
    const cur = this.entries.get(t.key)
    if (!opts.refresh && cur && cur.fingerprint === t.fingerprint && !cur.lost && cur.tools) return cur.tools
    for (let attempt = 0; ; attempt++) {
      const client = await this.client(t)
      const entry = this.entries.get(t.key)
      try {
        const tools: McpTool[] = []
        let cursor: string | undefined
        do {
          const page = await client.listTools(cursor ? { cursor } : undefined, { timeout: CONNECT_TIMEOUT_MS })
          for (const tool of page.tools) tools.push({ name: tool.name, description: tool.description ?? tool.title ?? '', inputSchema: (tool.inputSchema ?? { type: 'object' }) as JsonSchema })
          cursor = page.nextCursor
        } while (cursor && tools.length < MAX_TOOLS)
        if (entry) entry.tools = tools.slice(0, MAX_TOOLS)
        this.setStatus(t.key, 'connected', null)
        return tools.slice(0, MAX_TOOLS)
      } catch (err) {
        // A stale pooled connection: drop it and retry once on a fresh one (listing is safe to repeat).
        this.drop(t.key)
        if (attempt === 0 && !(err instanceof ApiError)) continue
        const e = this.translate(t, err, entry)
        this.setStatus(t.key, 'error', e.message)
        throw e
      }
    }
  }

  /** Calls a tool. Never retried (tools may not be idempotent); a lost connection reconnects on the next use. */
  async callTool(t: McpTarget, name: string, args: Record<string, unknown>, opts: McpCallOptions): Promise<CallToolResult> {
    const client = await this.client(t)
    const entry = this.entries.get(t.key)
    try {
      const res = await client.callTool({ name, arguments: args }, undefined, {
        signal: opts.signal,
        timeout: opts.timeoutMs,
        onprogress: opts.onProgress ? (p) => opts.onProgress!({ progress: p.progress, total: p.total, message: p.message }) : undefined,
      })
      return res as CallToolResult
    } catch (err) {
      const e = this.translate(t, err, entry)
      if (e.status === 502) { if (entry) this.lose(t.key, entry, entry.lost ?? e.message) }
      throw e
    }
  }

  private translate(t: McpTarget, err: unknown, entry: Entry | undefined): ApiError {
    if (err instanceof ApiError) return err
    const msg = clean((err as Error)?.message ?? String(err))
    if (isMcpError(err)) {
      const { ErrorCode } = sdk()
      if (err.code === ErrorCode.RequestTimeout) return new ApiError(504, `MCP server "${t.label}" timed out`, 'mcp_timeout')
      if (err.code === ErrorCode.ConnectionClosed) return new ApiError(502, `MCP server "${t.label}" connection lost${entry?.lost ? `: ${entry.lost}` : ' (the server closed the connection or exited)'}`, 'mcp_connection_lost')
      return new ApiError(502, `MCP server "${t.label}" returned an error: ${msg}`, 'mcp_error')
    }
    if ((err as Error)?.name === 'AbortError') return new ApiError(499, 'The call was cancelled', 'cancelled')
    return new ApiError(502, `MCP server "${t.label}" failed: ${msg}`, 'mcp_connection_lost')
  }

  /** Forget a connection (config changed, server deleted); in-flight calls on it fail. */
  drop(key: string) {
    const e = this.entries.get(key)
    if (!e) return
    this.entries.delete(key)
    e.lost ??= 'the server was reconfigured'
    e.ready.then((c) => c.close()).catch(() => {})
  }

  /** Drop and forget the status too (deleted servers). */
  forget(key: string) {
    this.drop(key)
    this.statuses.delete(key)
  }

  close() {
    this.closed = true
    // Local processes are stopped right away (the process may exit before async closes run).
    for (const e of this.entries.values()) {
      const transport = e.client?.transport
      if (sdkModule && transport instanceof sdkModule.StdioClientTransport && transport.pid) { try { process.kill(transport.pid, 'SIGTERM') } catch { /* already gone */ } }
    }
    for (const key of [...this.entries.keys()]) this.drop(key)
  }
}

/** MCP error messages sometimes repeat their prefix; keep them to one readable line. */
function clean(msg: string) {
  return msg.replace(/^MCP error -?\d+: /, '').replace(/TypeError: /g, '').replace(/\s*For more information, pass `verbose: true`[^.]*\.?/g, '').replace(/\s+/g, ' ').trim().slice(0, 300)
}

/** The kernel's MCP client pool (`k.mcp`). */
export const mcpPool = (k: Kernel) => k.mcp

/** Turns an MCP tool result into text for the model (images and resources summarized). */
export function mcpResultText(res: CallToolResult): string {
  const parts: string[] = []
  for (const c of res.content ?? []) {
    if (c.type === 'text') parts.push(c.text)
    else if (c.type === 'image' || c.type === 'audio') parts.push(`[${c.type} ${c.mimeType}, ${Math.round((c.data?.length ?? 0) * 0.75)} bytes]`)
    else if (c.type === 'resource') parts.push('text' in c.resource && typeof c.resource.text === 'string' ? c.resource.text : `[resource ${c.resource.uri}]`)
    else if (c.type === 'resource_link') parts.push(`[resource link ${c.uri}]`)
  }
  if (!parts.length && res.structuredContent) parts.push(JSON.stringify(res.structuredContent))
  return parts.join('\n')
}

/** Binary parts of an MCP result (images, audio, blob resources), for ToolResult.files; undefined when there are none. */
export function mcpBinaryParts(res: CallToolResult): ToolFile[] | undefined {
  const files: ToolFile[] = []
  for (const c of res.content ?? []) {
    if ((c.type === 'image' || c.type === 'audio') && typeof c.data === 'string') files.push({ mimeType: c.mimeType, data: c.data })
    else if (c.type === 'resource' && 'blob' in c.resource && typeof c.resource.blob === 'string') {
      files.push({ mimeType: c.resource.mimeType ?? 'application/octet-stream', data: c.resource.blob, uri: c.resource.uri })
    }
  }
  return files.length ? files : undefined
}
