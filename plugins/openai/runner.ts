import type { Kernel } from '../../src/kernel'
import type { RunInput } from '../../src/agent/run'
import type { RunEvent, RunResult } from '../../src/agent/types'
import type { RunOutcome, RunRequest, RunView } from '../../src/runs/types'
import type { EndpointRow } from '../agent-endpoints/service'
import { requestFor } from '../agent-endpoints/service'

/**
 * How the reach surfaces (OpenAI-compatible, MCP server, /v1 tasks) run an agent endpoint: one request to the
 * run service (`k.runs.start`, DESIGN §12) with the surface as the run's source and the endpoint's own spec,
 * billing and price. The run is recorded, billed and published by the service.
 */

export interface AgentRunRequest {
  input: RunInput
  /** Extra system text from the caller (OpenAI `system`/`developer` messages), after the agent's own prompt. */
  systemExtra?: string
  mode: 'sync' | 'stream'
  callerIp: string | null
  signal?: AbortSignal
  /** Which surface asked: the run's source. */
  source: 'openai' | 'mcp' | 'task'
  /** For usage analytics (stored in the run's meta): the channel (default: the source) and the credential (token id, `endpoint_key`, `session`). */
  channel?: string
  caller?: string
  /** Also inside the run's final transaction (a continued conversation saves its turn). */
  onFinish?: (run: RunView, result: RunResult) => void
}

export interface AgentRun { runId: string; events: AsyncIterable<RunEvent> }

/** The k.runs request of one call of the endpoint's agent from a reach surface. */
function requestOf(k: Kernel, ep: EndpointRow, req: AgentRunRequest): RunRequest {
  const base = requestFor(k, ep, req.input.message, {
    mode: req.mode, caller: req.callerIp, onDisconnect: 'cancel', channel: req.channel ?? req.source,
    messages: req.source !== 'task', // /v1 tasks publish their own message events (with the task's ids)
  })
  if (req.systemExtra) base.spec.systemPrompt = `${base.spec.systemPrompt}\n\n${req.systemExtra}`
  return {
    ...base,
    source: req.source,
    input: req.input,
    meta: { channel: req.channel ?? req.source, token: req.caller ?? 'session' },
    onFinish: (run, result) => {
      base.onFinish?.(run, result)
      req.onFinish?.(run, result)
    },
  }
}

/** Starts an endpoint's agent, its events live (SSE, progress). Refusals before anything ran (402, bad configuration) throw. Closing `events` early cancels the run. */
export async function startAgentRun(k: Kernel, ep: EndpointRow, req: AgentRunRequest): Promise<AgentRun> {
  const started = await k.runs.start(requestOf(k, ep, req))
  return { runId: started.run.id, events: started.events }
}

/** Runs an endpoint's agent to the end (JSON answers): one write for the whole run. Refusals before anything ran throw. */
export function executeAgentRun(k: Kernel, ep: EndpointRow, req: AgentRunRequest): Promise<RunOutcome> {
  return k.runs.execute({ ...requestOf(k, ep, req), mode: 'sync' }, { signal: req.signal })
}
