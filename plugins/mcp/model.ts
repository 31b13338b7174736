import { t } from 'elysia'

const StringMap = (desc: string) => t.Record(t.String({ minLength: 1, maxLength: 200 }), t.String({ maxLength: 8192 }), { description: desc })

export const Transport = t.Union([t.Literal('http'), t.Literal('stdio')], { description: 'http: Streamable HTTP (falls back to HTTP+SSE); stdio: a local command (admins, AGENTBASE_ALLOW_STDIO_MCP)' })

export const CreateMcpServer = t.Object({
  name: t.String({ minLength: 1, maxLength: 100, description: 'Also the prefix of its tool names (slugged): "GitHub" -> github_list_issues' }),
  transport: t.Optional(Transport),
  url: t.Optional(t.String({ minLength: 1, maxLength: 2000, description: 'http: the server URL (e.g. https://host/mcp); passes the outbound guard' })),
  headers: t.Optional(t.Nullable(StringMap('http: extra request headers (e.g. Authorization). Secret: stored encrypted, never returned'))),
  command: t.Optional(t.String({ minLength: 1, maxLength: 500, description: 'stdio: the executable' })),
  args: t.Optional(t.Array(t.String({ maxLength: 2000 }), { maxItems: 50, description: 'stdio: arguments' })),
  env: t.Optional(t.Nullable(StringMap('stdio: environment variables. Secret: stored encrypted, never returned'))),
  enabled: t.Optional(t.Boolean()),
})
export type CreateMcpServerInput = typeof CreateMcpServer.static

export const UpdateMcpServer = t.Partial(CreateMcpServer)
export type UpdateMcpServerInput = typeof UpdateMcpServer.static

export const McpServerTool = t.Object({
  name: t.String({ description: 'The name exposed to models and the tool API' }),
  mcp_name: t.String({ description: "The server's own name for the tool" }),
  description: t.String(),
})

export const McpServer = t.Object({
  id: t.String(),
  workspace_id: t.String(),
  name: t.String(),
  slug: t.String(),
  transport: Transport,
  url: t.Nullable(t.String()),
  command: t.Nullable(t.String()),
  args: t.Array(t.String()),
  has_headers: t.Boolean(),
  header_names: t.Array(t.String()),
  has_env: t.Boolean(),
  env_names: t.Array(t.String()),
  enabled: t.Boolean(),
  status: t.Union([t.Literal('pending'), t.Literal('connected'), t.Literal('error'), t.Literal('disabled')]),
  error_message: t.Nullable(t.String()),
  tool_count: t.Integer(),
  tools: t.Array(McpServerTool),
  tools_refreshed_at: t.Nullable(t.String()),
  created_at: t.String(),
  updated_at: t.String(),
})
export type McpServerView = typeof McpServer.static

export const ServerParams = t.Object({ id: t.String(), serverId: t.String() })

// ---- the tool API ----

export const ToolsQuery = t.Object({
  include_all: t.Optional(t.Boolean({ description: 'Also list tools that need configuration (a connection, an enabled server), marked available: false' })),
  all: t.Optional(t.Boolean({ description: 'Alias of include_all' })),
  workspace_id: t.Optional(t.String({ description: "Include this workspace's MCP servers (a workspace token uses its own by default)" })),
})

export const ToolView = t.Object({
  name: t.String(),
  description: t.String(),
  input_schema: t.Record(t.String(), t.Unknown()),
  kind: t.Union([t.Literal('builtin'), t.Literal('mcp'), t.Literal('connection')]),
  source: t.String({ description: 'builtin, mcp:<serverId> or connection:<connectionId>/<platform>' }),
  source_name: t.Nullable(t.String()),
  platform: t.Nullable(t.String()),
  available: t.Boolean(),
  requires_configuration: t.Boolean(),
  reason: t.Nullable(t.String()),
})

export const CallBody = t.Object({
  name: t.String({ minLength: 1, maxLength: 200, description: 'The tool name from GET /api/mcp/tools (e.g. slack_send_message)' }),
  arguments: t.Optional(t.Record(t.String(), t.Unknown(), { description: "Checked against the tool's input schema first" })),
  workspace_id: t.Optional(t.String({ description: "Needed for a workspace's MCP server tools" })),
  timeout_ms: t.Optional(t.Integer({ minimum: 100, maximum: 120000, description: 'Per-call timeout, default 30,000' })),
})
export type CallBodyInput = typeof CallBody.static

export const CallResponse = t.Object({
  call_id: t.String(),
  tool: t.String(),
  success: t.Boolean(),
  result: t.Object({ content: t.String(), data: t.Optional(t.Unknown()), is_error: t.Boolean() }),
  error: t.Nullable(t.String()),
  latency_ms: t.Number(),
})

export const ValidateResponse = t.Object({
  valid: t.Boolean(),
  tool: t.Nullable(ToolView),
  error: t.Optional(t.String()),
  code: t.Optional(t.String()),
  details: t.Optional(t.Record(t.String(), t.String())),
})

export const CallsQuery = t.Object({
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 500, description: 'Default 50' })),
  tool: t.Optional(t.String({ maxLength: 200 })),
})

export const ToolCallView = t.Object({
  id: t.String(),
  tool: t.String(),
  source: t.Nullable(t.String()),
  surface: t.String(),
  run_id: t.Nullable(t.String()),
  workspace_id: t.Nullable(t.String()),
  actor: t.Nullable(t.String()),
  success: t.Boolean(),
  latency_ms: t.Integer(),
  error: t.Nullable(t.String()),
  arguments: t.Nullable(t.String({ description: 'JSON, truncated, secrets redacted' })),
  result: t.Nullable(t.String({ description: 'JSON or text, truncated, secrets redacted' })),
  created_at: t.String(),
})
