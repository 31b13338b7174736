import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { preflight, run, emptyResult, type Collected, type RunInput } from '../../src/agent/run'
import { newId } from '../../src/db/ids'
import { attribute } from '../v1/usage'
import type { RunEvent } from '../../src/agent/types'
import type { EndpointRow } from '../agent-endpoints/store'
import { applyOutcome, assertBillable, commitOutcome, failure, newRunRow, outcomeOf, specFor, writer } from '../agent-endpoints/execute'

/**
 * THE adapter between the reach surfaces (OpenAI-compatible, MCP server, /v1 tasks) and the agent runtime.
 * Until the run service (`k.runs`, DESIGN §12) is merged, an agent endpoint's run is recorded with the
 * endpoint's own run recorder (run row, billing, run.completed/run.failed in one transaction). Switching to
 * `k.runs.start` is a change to this file only.
 */

export interface AgentRunRequest {
  input: RunInput
  /** Extra system text from the caller (OpenAI `system`/`developer` messages), after the agent's own prompt. */
  systemExtra?: string
  mode: 'sync' | 'stream'
  callerIp: string | null
  signal?: AbortSignal
  /** Which surface asked (recorded in run.started as `source`). */
  source: 'openai' | 'mcp' | 'task'
  /** For usage analytics: the channel (default: the source) and the credential (token id, `endpoint_key`, `session`). */
  channel?: string
  caller?: string
}

export interface AgentRun { runId: string; events: AsyncIterable<RunEvent> }

/** Starts an endpoint's agent. Refusals before anything ran (402, bad configuration) throw, after being recorded. */
export async function startAgentRun(k: Kernel, ep: EndpointRow, req: AgentRunRequest): Promise<AgentRun> {
  assertBillable(k, ep)
  const row = newRunRow(k, ep, req.mode, req.input.message, req.callerIp)
  const spec = specFor(k, ep)
  if (req.systemExtra) spec.systemPrompt = `${spec.systemPrompt}\n\n${req.systemExtra}`
  attribute(k, row.id, { channel: req.channel ?? req.source, token: req.caller ?? 'session' })
  const record = async (c: Parameters<typeof applyOutcome>[3]) => {
    applyOutcome(k, row, ep, c)
    await writer(k).run(() => {
      if (!commitOutcome(k, ep, row, true)) return
      // /v1 tasks publish their own message events; the OpenAI and MCP surfaces' exchanges are messages too.
      if (req.source !== 'task') publishExchange(k, ep, row.id, req, c)
    })
  }
  try {
    await preflight(k, spec)
  } catch (err) {
    const c = failure(err)
    await record(c)
    throw new ApiError(c.status, c.error, c.code)
  }
  const events = run(k, spec, req.input, {
    signal: req.signal, runId: row.id, started: { endpoint_id: ep.id, source: req.source }, stream: req.mode === 'stream',
  })
  return { runId: row.id, events: recorded(k, row.created_at, events, record) }
}

/** Passes events through and records the run once: at its terminal event, or as cancelled when the consumer stops early. */
async function* recorded(k: Kernel, createdAt: string, events: AsyncIterable<RunEvent>, record: (c: any) => Promise<void>): AsyncGenerator<RunEvent> {
  const partial = emptyResult()
  let done = false
  try {
    for await (const e of events) {
      if (e.type === 'run.completed' || e.type === 'run.failed') {
        done = true
        await record(outcomeOf(e))
        yield e
        return
      }
      if (e.type === 'usage') Object.assign(partial.usage, { tokens_input: e.tokens_input, tokens_output: e.tokens_output, cost_micro: Math.round(e.cost_cents * 1e6), iterations: e.iteration })
      else if (e.type === 'tool.completed') partial.tool_calls.push({ tool: e.tool, success: e.success, latency_ms: e.latency_ms })
      yield e
    }
  } catch (err) {
    if (!done) { done = true; await record(failure(err)) }
    throw err
  } finally {
    if (!done) {
      partial.usage.latency_ms = Math.max(0, k.clock.now() - Date.parse(createdAt))
      await record({ ok: false, result: partial, error: 'The client disconnected; the run was cancelled', code: 'cancelled', status: 499 })
        .catch((err) => k.log.warn('recording a cancelled run failed', { error: String(err) }))
    }
  }
}

function publishExchange(k: Kernel, ep: EndpointRow, runId: string, req: AgentRunRequest, c: Collected) {
  const who = { ownerId: ep.owner_id }
  const channel = req.channel ?? req.source
  const received = newId('msg')
  k.events.publish('agent.message.received', { agent_id: ep.id, message_id: received, channel, content: req.input.message, run_id: runId }, who)
  if (c.ok) {
    const o = c.result.output
    k.events.publish('agent.message.sent', {
      agent_id: ep.id, message_id: newId('msg'), reply_to: received, channel, content: typeof o === 'string' ? o : JSON.stringify(o), run_id: runId,
    }, who)
  }
}
