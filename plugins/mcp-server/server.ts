import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js'
import type { Kernel } from '../../src/kernel'
import type { Principal } from '../../src/auth/principal'
import { agentTools, callAgentTool } from './service'
import { workflowTools } from './workflows'

/**
 * One MCP server + transport per HTTP request (stateless Streamable HTTP: no session id, no affinity), so any
 * instance behind a load balancer can answer any request. Requests that carry a progress token get
 * `notifications/progress` on the request's SSE stream while the run goes.
 */
export async function handleMcp(k: Kernel, p: Principal, request: Request, parsedBody: unknown, callerIp: string | null): Promise<Response> {
  const server = new Server({ name: 'agentbase', version: k.version }, { capabilities: { tools: { listChanged: false } } })
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [...agentTools(k, p), ...workflowTools(k, p)].map((t) => ({ name: t.name, title: t.title, description: t.description, inputSchema: t.inputSchema as any })),
  }))
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const token = req.params._meta?.progressToken
    const out = await callAgentTool(k, p, req.params.name, (req.params.arguments ?? {}) as Record<string, unknown>, {
      signal: extra.signal,
      callerIp,
      onProgress: token === undefined ? undefined : (pr) => {
        extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: pr.progress, message: pr.message } }).catch(() => {})
      },
    })
    return {
      content: [{ type: 'text' as const, text: out.text }],
      isError: out.isError,
      ...(out.data && typeof out.data === 'object' && !Array.isArray(out.data) ? { structuredContent: out.data as Record<string, unknown> } : {}),
      ...(out.runId ? { _meta: { run_id: out.runId } } : out.executionId ? { _meta: { execution_id: out.executionId } } : {}),
    }
  })
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: false })
  await server.connect(transport)
  const res = await transport.handleRequest(request, { parsedBody })
  // Stateless: nothing outlives the response (a streamed response closes its transport when it ends).
  if (!res.body || !res.headers.get('content-type')?.includes('text/event-stream')) { transport.close().catch(() => {}); server.close().catch(() => {}) }
  return res
}
