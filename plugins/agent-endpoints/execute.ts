import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { collect, emptyResult, preflight, run, type Collected } from '../../src/agent/run'
import type { AgentSpec, ProviderName, RunEvent, ToolCallSummary } from '../../src/agent/types'
import { workspaceToolSet } from '../../src/tools/workspace-tools'
import { parseAllowList, restrictTools } from '../../src/tools/allow-list'
import { sseResponse } from '../../src/http/sse'
import { timeOrderedId } from '../../src/db/ids'
import { iso } from '../../src/clock'
import * as wallet from '../wallet/service'
import { GroupCommit } from '../../src/db/group-commit'
import { endpointsStore, runsStore, type EndpointRow, type RunRow } from './store'
import { LIMITS } from './model'

/** Running an endpoint's agent and recording the run: spec, billing, outcome, the sync answer. */

export type RunMode = RunRow['mode']

/** The hot path's writes (run rows, debits, events) share one transaction per event-loop turn. */
export const writer = (k: Kernel) => k.singleton('agent-endpoints.writer', () => new GroupCommit(k.db))

export const usesPlatformKey = (ep: EndpointRow) => !ep.llm_api_key_sealed && ep.llm_provider !== 'custom'

/** With AGENTBASE_BILLING=on, a run that would cost the owner needs a positive balance (402 before the model is called). */
export function assertBillable(k: Kernel, ep: EndpointRow) {
  if (usesPlatformKey(ep) || ep.price_per_run_cents > 0) wallet.assertCanSpend(k, ep.owner_id)
}

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

export function newRunRow(k: Kernel, ep: EndpointRow, mode: RunMode, input: string, callerIp: string | null, callbackUrl: string | null = null): RunRow {
  const ms = k.clock.now()
  const now = iso(ms)
  return {
    // Time-ordered: run rows are the hot path's largest insert (see timeOrderedId).
    id: timeOrderedId('run', ms), endpoint_id: ep.id, owner_id: ep.owner_id, mode, status: mode === 'async' ? 'queued' : 'running', input,
    output: null, output_parsed: 0, raw_output: null, tool_calls: '[]', tokens_input: 0, tokens_output: 0, iterations: 0, cost_micro: 0,
    charged_micro: 0, latency_ms: 0, caller_ip: callerIp, error: null, error_code: null, error_status: null, callback_url: callbackUrl,
    callback_status: null, callback_attempts: 0, callback_last_status: null, created_at: now, started_at: mode === 'async' ? null : now,
    finished_at: null,
  }
}

/**
 * Fills the outcome into the row. Cost = LLM cost + price_per_run (the price only for successful runs);
 * charged = what the owner's wallet pays: the LLM cost only when the platform key was used, plus the price.
 */
export function applyOutcome(k: Kernel, row: RunRow, ep: EndpointRow, c: Collected): RunRow {
  const r = c.result
  const llm = Math.max(0, Math.round(r.usage.cost_micro))
  const price = c.ok ? wallet.fromCents(ep.price_per_run_cents) : 0
  row.status = row.mode === 'test' ? 'test' : c.ok ? 'success' : 'error'
  const out = c.ok ? r.output : r.text || null
  row.output = out === null || out === undefined ? null : typeof out === 'string' ? out : JSON.stringify(out)
  row.output_parsed = c.ok && r.raw_output !== undefined ? 1 : 0
  row.raw_output = c.ok && r.raw_output !== undefined ? r.raw_output : null
  row.tool_calls = JSON.stringify(r.tool_calls)
  row.tokens_input = r.usage.tokens_input
  row.tokens_output = r.usage.tokens_output
  row.iterations = r.usage.iterations
  row.latency_ms = Math.round(r.usage.latency_ms)
  row.cost_micro = llm + price
  row.charged_micro = (usesPlatformKey(ep) ? llm : 0) + price
  row.error = c.ok ? null : c.error
  row.error_code = c.ok ? null : c.code
  row.error_status = c.ok ? null : c.status
  row.finished_at = iso(k.clock.now())
  row.started_at ??= row.created_at
  if (row.callback_url) row.callback_status = 'pending'
  return row
}

export const usageOf = (row: RunRow) => ({
  tokens_input: row.tokens_input, tokens_output: row.tokens_output, cost_cents: wallet.toCents(row.cost_micro),
  latency_ms: row.latency_ms, iterations: row.iterations,
})

/** Inside a transaction: the run row, the wallet debit and run.completed / run.failed commit together. */
export function commitOutcome(k: Kernel, ep: EndpointRow, row: RunRow, insert: boolean): boolean {
  const store = runsStore(k.db)
  if (insert) store.insert(row)
  else if (!store.finish(row)) return false // deleted with its endpoint meanwhile
  if (row.charged_micro > 0) wallet.debit(k, row.owner_id, row.charged_micro, `agent endpoint run (${ep.slug})`, { type: 'run', id: row.id })
  const failed = row.error !== null
  k.events.publish(failed ? 'run.failed' : 'run.completed', {
    run_id: row.id, endpoint_id: ep.id, status: row.status, usage: usageOf(row),
    ...(failed ? { error: row.error, code: row.error_code } : {}),
  }, { ownerId: row.owner_id })
  return true
}

/** Records a finished sync/stream run; an endpoint deleted while it ran answers 404 (nothing to record it under). */
async function recordNew(k: Kernel, ep: EndpointRow, row: RunRow) {
  try {
    await writer(k).run(() => commitOutcome(k, ep, row, true))
  } catch (err) {
    if (!endpointsStore(k.db).get(ep.id)) throw new ApiError(404, 'Agent endpoint not found or not active', 'not_found')
    throw err
  }
}

/** The sync answer (reference "Response (200) — Sync Mode"). */
export function syncShape(row: RunRow) {
  const toolCalls = JSON.parse(row.tool_calls) as ToolCallSummary[]
  return {
    run_id: row.id,
    output: row.output_parsed && row.output !== null ? JSON.parse(row.output) : row.output ?? '',
    ...(row.output_parsed && row.raw_output !== null ? { raw_output: row.raw_output } : {}),
    tool_calls: toolCalls,
    usage: usageOf(row),
  }
}

/** The Collected outcome a terminal runtime event carries. */
export type TerminalEvent = Extract<RunEvent, { type: 'run.completed' | 'run.failed' }>
export const outcomeOf = (e: TerminalEvent): Collected =>
  e.type === 'run.completed' ? { ok: true, result: e.result } : { ok: false, result: e.result, error: e.error, code: e.code, status: e.status }

export const failure = (err: unknown): Extract<Collected, { ok: false }> => {
  const api = err instanceof ApiError ? err : new ApiError(500, `The run failed: ${(err as Error)?.message ?? String(err)}`, 'internal_error')
  return { ok: false, result: emptyResult(), error: api.message, code: api.code, status: api.status }
}

export interface RunContext { callerIp: string | null; signal?: AbortSignal }

/** Sync JSON (and dashboard test) runs: collect, record in a batched transaction, answer. Failures are recorded, then thrown. */
export async function runSync(k: Kernel, ep: EndpointRow, input: string, mode: 'sync' | 'test', ctx: RunContext): Promise<RunRow> {
  const row = newRunRow(k, ep, mode, input, ctx.callerIp)
  let c: Collected
  try {
    assertBillable(k, ep)
    c = await collect(run(k, specFor(k, ep), { message: input }, { signal: ctx.signal, runId: row.id, started: { endpoint_id: ep.id }, stream: false }))
  } catch (err) {
    if (err instanceof ApiError && err.status === 402) throw err // refused before anything ran: not a run
    c = failure(err)
  }
  applyOutcome(k, row, ep, c)
  await recordNew(k, ep, row)
  if (!c.ok) throw new ApiError(c.status, c.error, c.code)
  return row
}

/** enable_streaming: the SSE stream of DESIGN §6; the run is recorded before its final event is sent. */
export async function runStream(k: Kernel, ep: EndpointRow, input: string, ctx: RunContext): Promise<Response> {
  assertBillable(k, ep)
  const row = newRunRow(k, ep, 'stream', input, ctx.callerIp)
  const spec = specFor(k, ep)
  try {
    await preflight(k, spec)
  } catch (err) {
    const c = failure(err)
    applyOutcome(k, row, ep, c)
    await recordNew(k, ep, row)
    throw new ApiError(c.status, c.error, c.code)
  }
  const events = run(k, spec, { message: input }, { signal: ctx.signal, runId: row.id, started: { endpoint_id: ep.id } })
  return sseResponse(k, recorded(k, ep, row, events), { signal: ctx.signal })
}

/**
 * Passes the run's events through (a plain iterator: one promise per event, no generator hop on the token path)
 * and records the run exactly once: at its terminal event (before that event is sent), or, when the client went
 * away first, as cancelled with what it had used so far.
 */
function recorded(k: Kernel, ep: EndpointRow, row: RunRow, events: AsyncIterable<RunEvent>): AsyncIterable<RunEvent> {
  const it = events[Symbol.asyncIterator]()
  const partial = emptyResult()
  let recording: Promise<void> | null = null
  const cancelled = () => {
    partial.usage.latency_ms = Math.max(0, k.clock.now() - Date.parse(row.created_at))
    applyOutcome(k, row, ep, { ok: false, result: partial, error: 'The client disconnected; the run was cancelled', code: 'cancelled', status: 499 })
    return recordNew(k, ep, row).catch((err) => k.log.warn('recording a cancelled run failed', { run_id: row.id, error: String(err) }))
  }
  const iterator: AsyncIterator<RunEvent> = {
    async next() {
      const r = await it.next()
      if (r.done) {
        recording ??= cancelled()
        await recording
        return r
      }
      const e = r.value
      if (e.type === 'run.completed' || e.type === 'run.failed') {
        if (!recording) {
          applyOutcome(k, row, ep, outcomeOf(e))
          recording = recordNew(k, ep, row)
          await recording
          e.result.usage.cost_cents = wallet.toCents(row.cost_micro)
        }
        return r
      }
      if (e.type === 'usage') Object.assign(partial.usage, { tokens_input: e.tokens_input, tokens_output: e.tokens_output, cost_micro: Math.round(e.cost_cents * 1e6), iterations: e.iteration })
      else if (e.type === 'tool.completed') partial.tool_calls.push({ tool: e.tool, success: e.success, latency_ms: e.latency_ms })
      return r
    },
    async return() {
      await it.return?.()
      recording ??= cancelled()
      await recording
      return { done: true, value: undefined }
    },
  }
  return { [Symbol.asyncIterator]: () => iterator }
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
  const rest = Object.fromEntries(Object.entries(o).filter(([key]) => key !== 'callback_url'))
  return Object.keys(rest).length ? JSON.stringify(rest) : null
}
