import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { enforceRate } from '../../src/http/rate-limit'
import { hasScope, listScope, type Principal } from '../../src/auth/principal'
import { recordToolCall } from '../../src/tools/audit'
import type { JsonSchema } from '../../src/agent/types'
import type { EndpointRow } from '../agent-endpoints/service'
import { extractInput } from '../agent-endpoints/service'
import * as endpoints from '../agent-endpoints/service'
import { startAgentRun } from '../openai/service'
import { runWorkflowTool, workflowTools } from './workflows'

/**
 * Agents as MCP tools (issue 15 §3): each active agent endpoint the credential may run is one tool named by
 * its slug (and each active workflow one named `workflow_<name>`, see workflows.ts). A call is a run; its text
 * deltas and tool activity become MCP progress notifications.
 */

export interface AgentTool { name: string; title: string; description: string; inputSchema: JsonSchema; endpoint: EndpointRow }

const DEFAULT_INPUT: JsonSchema = {
  type: 'object',
  properties: { input: { type: 'string', description: 'The message or document for the agent' } },
  required: ['input'],
  additionalProperties: false,
}

/** An endpoint's declared object input_schema is the tool's input; otherwise one `input` string. */
function inputSchemaOf(ep: EndpointRow): JsonSchema {
  if (!ep.input_schema) return DEFAULT_INPUT
  try {
    const s = JSON.parse(ep.input_schema) as JsonSchema
    return s && s.type === 'object' ? s : DEFAULT_INPUT
  } catch {
    return DEFAULT_INPUT
  }
}

/** The tools a principal may see: endpoints need `endpoints.run`. */
export function agentTools(k: Kernel, p: Principal): AgentTool[] {
  if (!hasScope(p, 'endpoints.run')) return []
  const { ownerId, workspaceId } = listScope(p)
  return endpoints.listActive(k, ownerId, workspaceId).map((ep) => ({
    name: ep.slug,
    title: ep.name,
    description: ep.description ?? `Runs the agent "${ep.name}"`,
    inputSchema: inputSchemaOf(ep),
    endpoint: ep,
  }))
}

export interface Progress { progress: number; message: string }

export interface CallOutcome { text: string; isError: boolean; runId: string | null; data?: unknown; executionId?: string }

/**
 * One tool call = one run. Every call (unknown tools and refusals included) is written to the tool audit log
 * with surface `mcp` and the run id.
 */
export async function callAgentTool(
  k: Kernel, p: Principal, name: string, args: Record<string, unknown>, opts: { signal: AbortSignal; onProgress?: (p: Progress) => void; callerIp: string | null },
): Promise<CallOutcome> {
  const runOpts = { ...opts, caller: p.tokenId ?? 'session' }
  const started = performance.now()
  const tool = agentTools(k, p).find((t) => t.name === name)
  const wf = tool ? null : workflowTools(k, p).find((t) => t.name === name)
  let out: CallOutcome
  try {
    if (wf) {
      const r = await runWorkflowTool(k, p, wf, args, opts)
      out = { text: r.text, isError: r.isError, runId: null, data: r.data }
      recordToolCall(k, {
        ownerId: r.ownerId, workspaceId: p.workspaceId, actor: p.tokenId ?? p.userId, surface: 'mcp', runId: null, tool: name,
        source: `workflow:${wf.workflowId}`, success: !r.isError, latencyMs: performance.now() - started, error: r.isError ? r.text : null,
        arguments: args, result: { execution_id: r.executionId, output: r.data ?? r.text },
      })
      return { ...out, executionId: r.executionId }
    }
    if (!tool) throw new ApiError(404, `Unknown tool "${name}"`, 'unknown_tool')
    out = await runTool(k, tool.endpoint, args, runOpts)
  } catch (err) {
    const api = err instanceof ApiError ? err : new ApiError(500, (err as Error)?.message ?? String(err), 'internal_error')
    out = { text: api.message, isError: true, runId: null }
  }
  recordToolCall(k, {
    ownerId: tool?.endpoint.owner_id ?? p.userId, workspaceId: tool?.endpoint.workspace_id ?? p.workspaceId, actor: p.tokenId ?? p.userId,
    surface: 'mcp', runId: out.runId, tool: name, source: tool ? `endpoint:${tool.endpoint.id}` : null, success: !out.isError,
    latencyMs: performance.now() - started, error: out.isError ? out.text : null, arguments: args, result: out.data ?? out.text,
  })
  return out
}

async function runTool(k: Kernel, ep: EndpointRow, args: Record<string, unknown>, opts: { signal: AbortSignal; onProgress?: (p: Progress) => void; callerIp: string | null; caller: string }): Promise<CallOutcome> {
  const message = extractInput(args)
  if (message === null) throw new ApiError(400, 'Input required: send {"input": "..."}', 'input_required')
  enforceRate(k.limiter, { headers: {} }, `aep:${ep.id}:key`, ep.rate_limit_rpm, 'Rate limited: too many runs of this agent')
  const { runId, events } = await startAgentRun(k, ep, { input: { message }, mode: 'stream', callerIp: opts.callerIp, signal: opts.signal, source: 'mcp', caller: opts.caller })
  let n = 0
  for await (const e of events) {
    if (e.type === 'text.delta') opts.onProgress?.({ progress: ++n, message: e.text })
    else if (e.type === 'tool.started') opts.onProgress?.({ progress: ++n, message: `Calling tool ${e.tool}` })
    else if (e.type === 'tool.completed') opts.onProgress?.({ progress: ++n, message: `Tool ${e.tool} ${e.success ? 'finished' : 'failed'}` })
    else if (e.type === 'run.completed') {
      const o = e.result.output
      return { text: typeof o === 'string' ? o : JSON.stringify(o), isError: false, runId, data: typeof o === 'string' ? undefined : o }
    } else if (e.type === 'run.failed') return { text: e.error, isError: true, runId }
  }
  return { text: 'The run ended without a result', isError: true, runId }
}
