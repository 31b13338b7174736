import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import { sseResponse } from '../../src/http/sse'
import * as servers from './service'
import * as tools from './tools-service'
import {
  CallBody, CallResponse, CallsQuery, CreateMcpServer, McpServer, ServerParams, ToolCallView, ToolsQuery, ToolView, UpdateMcpServer, ValidateResponse,
} from './model'

const Envelope = t.Object({ mcp_server: McpServer })

/** MCP servers of a workspace: /api/workspaces/:id/mcp-servers. */
export const mcpServersPlugin = (k: Kernel) =>
  new Elysia({ name: 'mcp-servers', seed: k.seed, prefix: '/api/workspaces', detail: { tags: ['MCP servers'] } })
    .use(authGuard(k))
    .get('/:id/mcp-servers', ({ principal, params }) => ({ mcp_servers: servers.list(k, principal, params.id) }), {
      auth: 'tools.read', params: t.Object({ id: t.String() }), response: t.Object({ mcp_servers: t.Array(McpServer) }),
      detail: { summary: "List a workspace's MCP servers (status, tool count; headers and env never returned)" },
    })
    .post('/:id/mcp-servers', async ({ principal, params, body, set }) => {
      const s = await servers.create(k, principal, params.id, body)
      set.status = 201
      return { mcp_server: s }
    }, {
      auth: 'workspaces.write', params: t.Object({ id: t.String() }), body: CreateMcpServer, response: { 201: Envelope },
      detail: { summary: 'Add an MCP server (connects and lists its tools; status error with error_message when it cannot)' },
    })
    .get('/:id/mcp-servers/:serverId', ({ principal, params }) => ({ mcp_server: servers.get(k, principal, params.id, params.serverId) }), {
      auth: 'tools.read', params: ServerParams, response: Envelope, detail: { summary: 'Get an MCP server' },
    })
    .patch('/:id/mcp-servers/:serverId', async ({ principal, params, body }) => ({ mcp_server: await servers.update(k, principal, params.id, params.serverId, body) }), {
      auth: 'workspaces.write', params: ServerParams, body: UpdateMcpServer, response: Envelope,
      detail: { summary: 'Change an MCP server (reconnects when the transport, URL, command or secrets change)' },
    })
    .delete('/:id/mcp-servers/:serverId', ({ principal, params }) => {
      servers.remove(k, principal, params.id, params.serverId)
      return { deleted: true }
    }, { auth: 'workspaces.write', params: ServerParams, response: t.Object({ deleted: t.Boolean() }), detail: { summary: 'Remove an MCP server (its connection closes)' } })
    .post('/:id/mcp-servers/:serverId/refresh', async ({ principal, params }) => ({ mcp_server: await servers.refresh(k, principal, params.id, params.serverId) }), {
      auth: 'workspaces.write', params: ServerParams, response: Envelope, detail: { summary: 'Re-list the server\'s tools (reconnecting if needed)' },
    })

/** The tool catalog and calls: /api/mcp/... */
export const mcpPlugin = (k: Kernel) =>
  new Elysia({ name: 'mcp', seed: k.seed, prefix: '/api/mcp', detail: { tags: ['Tools (MCP)'] } })
    .use(authGuard(k))
    .get('/tools', async ({ principal, query }) => ({ tools: await tools.listTools(k, principal, query) }), {
      auth: 'tools.read', query: ToolsQuery, response: t.Object({ tools: t.Array(ToolView) }),
      detail: { summary: 'List the tools you can call: built-ins, your connections, and a workspace\'s MCP servers' },
    })
    .post('/call', ({ principal, body, request }) => tools.call(k, principal, body, request.signal), {
      auth: 'tools.call', body: CallBody, response: CallResponse,
      detail: { summary: 'Call a tool (arguments checked against its schema first; 502/504 when its server fails or times out)' },
    })
    .post('/call/stream', async ({ principal, body, request }) => {
      const events = await tools.callStream(k, principal, body, request.signal)
      return sseResponse(k, events, { signal: request.signal })
    }, {
      auth: 'tools.call', body: CallBody,
      response: { 200: t.String({ description: 'text/event-stream (DESIGN §6): id, event and data lines; data repeats the event name in `type`' }) },
      detail: { summary: 'Call a tool as an SSE stream: run.started, tool.started, tool.progress, tool.completed, then run.completed or run.failed' },
    })
    .post('/validate', ({ principal, body }) => tools.validate(k, principal, body), {
      auth: 'tools.read', body: CallBody, response: ValidateResponse, detail: { summary: 'Check a call (tool exists, arguments fit its schema) without running it' },
    })
    .get('/calls', ({ principal, query }) => ({ calls: tools.calls(k, principal, query) }), {
      auth: 'tools.read', query: CallsQuery, response: t.Object({ calls: t.Array(ToolCallView) }),
      detail: { summary: 'The tool-call audit log, newest first (arguments and results truncated, secrets redacted)' },
    })
