import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import { ApiError } from '../../src/http/errors'
import { clientIp } from '../../src/http/client-ip'
import { hasScope } from '../../src/auth/principal'

// The MCP SDK's server (and zod under it: ~1 MB of module code that builds its schemas when loaded) loads on the
// first /mcp request, not at start-up (idle RSS, issue 10). src/tools/mcp-pool.ts does the same for the client.
let serverModule: typeof import('./server') | null = null
const mcpServer = () => (serverModule ??= require('./server') as typeof import('./server'))

/**
 * `/mcp`: agents served as MCP tools over Streamable HTTP (stateless). Bearer auth (API token or JWT); the
 * tools are the agent endpoints (`endpoints.run`) and active workflows (`workflows.run`) the credential may run.
 */
export const mcpServerPlugin = (k: Kernel) =>
  new Elysia({ name: 'mcp-server', seed: k.seed, detail: { tags: ['MCP server'] } })
    .use(authGuard(k))
    .post('/mcp', ({ principal, request, body, server }) => {
      if (!hasScope(principal, 'endpoints.run') && !hasScope(principal, 'workflows.run')) {
        throw new ApiError(403, 'This credential lacks the "endpoints.run" and "workflows.run" scopes (needed to use agents and workflows as MCP tools)', 'missing_scope')
      }
      return mcpServer().handleMcp(k, principal, request, body, clientIp(request, server, k.config.trustProxy))
    }, {
      auth: true,
      response: { 200: t.Unknown({ description: 'JSON-RPC response, or text/event-stream of JSON-RPC messages (progress notifications, then the result)' }) },
      detail: {
        summary: 'MCP Streamable HTTP endpoint (JSON-RPC; stateless): tools/list gives your agents, tools/call runs one with progress notifications',
      },
    })
    // Stateless server: no standalone GET stream and no session to delete.
    .get('/mcp', ({ set }) => {
      set.status = 405
      set.headers.allow = 'POST'
      return { error: 'This MCP server is stateless: use POST /mcp', code: 'method_not_allowed' }
    }, { auth: true, detail: { summary: 'Not supported (stateless server): 405', hide: true } })
    .delete('/mcp', ({ set }) => {
      set.status = 405
      set.headers.allow = 'POST'
      return { error: 'This MCP server is stateless: there is no session to end', code: 'method_not_allowed' }
    }, { auth: true, detail: { summary: 'Not supported (stateless server): 405', hide: true } })
