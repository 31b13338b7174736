import { mcpBinaryParts, mcpPool, mcpResultText, type McpTarget } from '../../../src/tools/mcp-pool'
import { MAX_TOOL_TIMEOUT_MS, toolSlug } from '../../../src/tools/workspace-tools'
import { ApiError } from '../../../src/http/errors'
import { PlatformError, str, type Platform, type PlatformContext } from './types'

/** A user-level remote MCP server (Streamable HTTP, falling back to HTTP+SSE), pooled by connection id. */
function target(ctx: PlatformContext): McpTarget {
  const c = ctx.connection
  return {
    key: c?.id ?? `test:${ctx.config.url}`, label: c?.name ?? String(ctx.config.url), transport: 'http', url: ctx.config.url,
    headers: ctx.config.headers ?? null, fingerprint: c ? `${c.id}:${c.rev}` : `test:${JSON.stringify(ctx.config)}`,
  }
}

export const mcpPlatform: Platform = {
  id: 'mcp',
  name: 'MCP server',
  description: 'A remote MCP server by URL (Streamable HTTP or HTTP+SSE); its tools become yours in every workspace.',
  docsUrl: 'https://modelcontextprotocol.io/specification/2025-06-18/basic/transports',
  configSchema: {
    type: 'object',
    properties: {
      url: str('Server URL, e.g. https://mcp.example.com/mcp (passes the outbound guard)', { minLength: 1, maxLength: 2000, pattern: '^https?://' }),
      headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Request headers such as Authorization (secret)' },
    },
    required: ['url'],
    additionalProperties: false,
  },
  secretFields: ['headers'],
  tools: (_config, cached) => cached.map((t) => ({ op: toolSlug(t.name), description: t.description || t.name, inputSchema: t.inputSchema })),
  async check(ctx) {
    await ctx.k.outbound.check(ctx.config.url)
  },
  async authenticate(ctx) {
    const pool = mcpPool(ctx.k)
    const t = target(ctx)
    try {
      const tools = await pool.listTools(t, { refresh: true })
      return { account: { url: ctx.config.url, tool_count: tools.length }, tools }
    } catch (err) {
      throw PlatformError.refused((err as Error).message, err instanceof ApiError && err.status === 401)
    } finally {
      if (!ctx.connection) pool.forget(t.key) // a test before saving keeps nothing open
    }
  },
  async call(ctx, op, args) {
    const tool = ctx.connection?.tools.find((t) => toolSlug(t.name) === op)
    if (!tool) throw PlatformError.refused(`This MCP connection has no tool "${op}"; test the connection to refresh its tools`)
    const res = await mcpPool(ctx.k).callTool(target(ctx), tool.name, args, { signal: ctx.signal, timeoutMs: MAX_TOOL_TIMEOUT_MS + 5000, onProgress: ctx.onProgress })
    return { content: mcpResultText(res), isError: !!res.isError, data: res.structuredContent ?? undefined, files: mcpBinaryParts(res) }
  },
}
