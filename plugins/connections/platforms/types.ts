import type { Kernel } from '../../../src/kernel'
import type { JsonSchema, ToolResult } from '../../../src/agent/types'
import type { McpTool } from '../../../src/tools/mcp-pool'
import { safeFetch } from '../../../src/tools/outbound'
import { PlatformError, platformFetch } from '../../../src/http/platform'
import { ApiError } from '../../../src/http/errors'
import { jsonTooDeep } from '../../../src/http/json'
import { TOOL_FILE_MAX_BYTES, type BinaryBody } from '../../../src/tools/binary'

/** One operation a platform offers as a tool: `op` becomes `<platform>_<op>` (e.g. slack_send_message). */
export interface PlatformTool { op: string; description: string; inputSchema: JsonSchema }

export type Config = Record<string, any>

export interface PlatformContext {
  k: Kernel
  config: Config
  signal: AbortSignal
  /** MCP progress notifications, streamed as tool.progress. */
  onProgress?: (p: { progress: number; total?: number; message?: string }) => void
  /** The stored connection, when there is one (mcp: pool key and cached tools). */
  connection?: { id: string; name: string; rev: number; tools: McpTool[] }
}

export interface AuthResult {
  /** Non-secret identity shown in the API (team, login, bot name). */
  account: Record<string, unknown>
  /** mcp: the remote server's tools, cached on the connection. */
  tools?: McpTool[]
}

/**
 * One platform adapter (Uptime Kuma style: one small file each). `check` refuses bad input before any
 * request (400); `authenticate` proves the credentials with one real API call; `call` runs one tool.
 */
export interface Platform {
  id: string
  name: string
  description: string
  docsUrl: string
  /** JSON Schema of `config`; fields named in `secretFields` are credentials. */
  configSchema: JsonSchema
  secretFields: string[]
  /** The tools this platform enables. `http` and `mcp` depend on the config/cached tools. */
  tools(config: Config | null, cached: McpTool[]): PlatformTool[]
  check?(ctx: PlatformContext): Promise<void>
  authenticate(ctx: PlatformContext): Promise<AuthResult>
  call(ctx: PlatformContext, op: string, args: Record<string, any>): Promise<ToolResult>
}

/**
 * A platform said no: `PlatformError.refused(message, auth)` (the one PlatformError, src/http/platform.ts).
 * `auth`: the credentials were refused (a stored connection becomes `expired`). Unreachable or timed-out
 * platforms throw ApiError 502/504 instead.
 */
export { PlatformError }

const TIMEOUT_MS = 15_000
const MAX_BYTES = 512 * 1024

/** `binary`: the body was not text and the request asked for it as bytes (opts.binary); `text` is then empty. */
export interface PlatformResponse { status: number; ok: boolean; json: any; text: string; binary?: BinaryBody; headers?: Headers; url?: string }

/**
 * One request to a platform API. Operator-configured bases (DESIGN §8) are fetched directly;
 * user-supplied URLs (`guard: true`) pass the outbound guard. Never puts the URL in an error
 * (Telegram's carries the token).
 */
export async function platformRequest(ctx: PlatformContext, platform: string, url: string, init: RequestInit & { json?: unknown } = {}, opts: { guard?: boolean; binary?: boolean } = {}): Promise<PlatformResponse> {
  const headers = new Headers(init.headers)
  let body = init.body
  if (init.json !== undefined) {
    body = JSON.stringify(init.json)
    if (!headers.has('content-type')) headers.set('content-type', 'application/json; charset=utf-8')
  }
  if (!headers.has('user-agent')) headers.set('user-agent', `agentbase/${ctx.k.version}`)
  const reqInit: RequestInit = { method: init.method ?? 'GET', headers, body }
  let status: number
  let text: string
  if (opts.guard) {
    const res = await safeFetch(ctx.k.outbound, url, reqInit, { timeoutMs: TIMEOUT_MS, maxBytes: MAX_BYTES, signal: ctx.signal, maxRedirects: 0, ...(opts.binary ? { binaryMaxBytes: TOOL_FILE_MAX_BYTES } : {}) })
    if (res.binary) return { status: res.status, ok: res.status >= 200 && res.status < 300, json: null, text: '', binary: res.binary, headers: res.headers, url: res.url }
    status = res.status
    text = res.body
  } else {
    try {
      const res = await platformFetch(platform, url, { method: reqInit.method, headers, body: body ?? null }, { timeoutMs: TIMEOUT_MS, signal: ctx.signal, maxBytes: MAX_BYTES })
      status = res.status
      text = res.text
    } catch (err) {
      if (!(err instanceof PlatformError)) throw err // cancelled by the caller
      if (err.message.startsWith('timed out')) throw new ApiError(504, `${platform} did not answer within ${TIMEOUT_MS / 1000} s`, 'upstream_timeout')
      throw new ApiError(502, `Could not reach ${platform}: ${err.message}`, 'upstream_failed')
    }
  }
  let json: any = null
  try { json = text && !jsonTooDeep(text) ? JSON.parse(text) : null } catch { /* not JSON */ }
  return { status, ok: status >= 200 && status < 300, json, text }
}

/** A short readable slice of a response body for error messages. */
export const snippet = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}…` : text).replace(/\s+/g, ' ').trim()

export const str = (description: string, extra: JsonSchema = {}) => ({ type: 'string', description, ...extra })
