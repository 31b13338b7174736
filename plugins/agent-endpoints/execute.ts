import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import type { AgentSpec, ProviderName, RunResult, ToolCallSummary } from '../../src/agent/types'
import { workspaceToolSet } from '../../src/tools/workspace-tools'
import { parseAllowList, restrictTools } from '../../src/tools/allow-list'
import { usageOf } from '../../src/runs/record'
import type { OnDisconnect, RunMode, RunRequest, RunView } from '../../src/runs/types'
import type { Logger } from '../../src/log'
import { endpointsStore, type EndpointRow } from './store'
import { LIMITS } from './model'
import { newId } from '../../src/db/ids'

/** An endpoint's agent as a run request for k.runs (DESIGN §12), and the answers shaped from its runs. */

export function specFor(k: Kernel, ep: EndpointRow): AgentSpec {
  return {
    systemPrompt: ep.system_prompt,
    provider: ep.llm_provider as ProviderName,
    model: ep.llm_model,
    apiKey: ep.llm_api_key_sealed ? k.secrets.open(ep.llm_api_key_sealed) : null,
    baseUrl: ep.llm_base_url,
    temperature: ep.temperature,
    maxTokens: ep.max_tokens,
    // max_tool_calls bounds the agentic loop: that many tool calls, plus the turn that answers.
    maxToolCalls: ep.max_tool_calls,
    maxIterations: ep.max_tool_calls + 1,
    timeoutMs: Math.min(ep.timeout_ms, LIMITS.runTimeoutCap),
    outputFormat: ep.output_format as AgentSpec['outputFormat'],
    outputSchema: ep.output_schema ? JSON.parse(ep.output_schema) : null,
    tools: restrictTools(workspaceToolSet(k, ep.owner_id, ep.workspace_id, { actor: ep.id }), parseAllowList(ep.tools)),
    ownerId: ep.owner_id,
    surface: 'endpoint',
  }
}

export const endpointGone = () => new ApiError(404, 'Agent endpoint not found or not active', 'not_found')

export interface RunAsk {
  mode: RunMode; caller: string | null; callbackUrl?: string | null; onDisconnect?: OnDisconnect; log?: Logger
  /** The surface's channel in agent.message.* events (default `api`); `messages: false` when the surface publishes its own (/v1 tasks). */
  channel?: string; messages?: boolean
}

/** The run request of one call of `ep`. A run whose endpoint was deleted meanwhile is not recorded (404). */
export function requestFor(k: Kernel, ep: EndpointRow, input: string, ask: RunAsk): RunRequest {
  return {
    source: 'endpoint', sourceId: ep.id, ownerId: ep.owner_id, workspaceId: ep.workspace_id,
    spec: specFor(k, ep), input: { message: input }, caller: ask.caller, mode: ask.mode,
    refs: { endpoint_id: ep.id }, pricePerRunCents: ep.price_per_run_cents, callbackUrl: ask.callbackUrl ?? null,
    onDisconnect: ask.onDisconnect, meta: ask.onDisconnect ? { on_disconnect: ask.onDisconnect } : undefined,
    billing: { reason: `agent endpoint run (${ep.slug})` }, log: ask.log,
    onFinish: (run, result) => {
      if (!endpointsStore(k.db).exists(ep.id)) throw endpointGone()
      if (ask.messages !== false && run.mode !== 'test') publishExchange(k, ep, run, result, ask.channel ?? 'api')
    },
  }
}

/** /v1's agent.message.received and agent.message.sent for one endpoint run, in the run's final transaction. */
function publishExchange(k: Kernel, ep: EndpointRow, run: RunView, result: RunResult, channel: string) {
  const who = { ownerId: ep.owner_id }
  const received = `msg_${run.id.slice(4)}`
  k.events.publish('agent.message.received', { agent_id: ep.id, message_id: received, channel, content: run.input, run_id: run.id }, who)
  if (run.error === null) {
    const o = result.output
    k.events.publish('agent.message.sent', {
      agent_id: ep.id, message_id: newId('msg'), reply_to: received, channel, content: typeof o === 'string' ? o : JSON.stringify(o), run_id: run.id,
    }, who)
  }
}

/** The sync answer (reference "Response (200) — Sync Mode"). */
export function syncShape(row: RunView) {
  const toolCalls = JSON.parse(row.tool_calls) as ToolCallSummary[]
  return {
    run_id: row.id,
    output: row.output_parsed && row.output !== null ? JSON.parse(row.output) : row.output ?? '',
    ...(row.output_parsed && row.raw_output !== null ? { raw_output: row.raw_output } : {}),
    tool_calls: toolCalls,
    usage: usageOf(row),
  }
}

/** Sync JSON (and dashboard test) runs: run and record through k.runs; a failure is recorded, then thrown. */
export async function runSync(k: Kernel, ep: EndpointRow, input: string, mode: 'sync' | 'test', caller: string | null, signal?: AbortSignal, log?: Logger): Promise<RunView> {
  let out
  try {
    out = await k.runs.execute(requestFor(k, ep, input, { mode, caller, log }), { signal })
  } catch (err) {
    if (!endpointsStore(k.db).get(ep.id)) throw endpointGone()
    throw err
  }
  if (!out.ok) throw new ApiError(out.error!.status, out.error!.message, out.error!.code)
  return out.run
}

/** Input per the reference: `input`, `message`, `text` or `prompt`, else the whole body stringified. */
export function extractInput(body: unknown): string | null {
  if (body === null || body === undefined) return null
  if (typeof body === 'string') return body.trim() ? body : null
  if (typeof body !== 'object' || Array.isArray(body)) return JSON.stringify(body)
  const o = body as Record<string, unknown>
  for (const f of ['input', 'message', 'text', 'prompt']) {
    const v = o[f]
    if (v === undefined || v === null) continue
    if (typeof v === 'string') return v.trim() ? v : null
    return JSON.stringify(v)
  }
  const rest = Object.fromEntries(Object.entries(o).filter(([key]) => key !== 'callback_url' && key !== 'on_disconnect'))
  return Object.keys(rest).length ? JSON.stringify(rest) : null
}
