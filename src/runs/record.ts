import type { Kernel } from '../kernel'
import { ApiError } from '../http/errors'
import { emptyResult, type Collected } from '../agent/run'
import type { RunEvent } from '../agent/types'
import { timeOrderedId } from '../db/ids'
import { iso } from '../clock'
import { chargesLlm, fromCents, toCents } from './billing'
import type { RunFailure, RunMode, RunRequest, RunView } from './types'

/** A run's row from its request, and its outcome filled in from what the runtime returned. */

export type TerminalEvent = Extract<RunEvent, { type: 'run.completed' | 'run.failed' }>
export type Failed = Extract<Collected, { ok: false }>

export function newRow(k: Kernel, req: RunRequest, mode: RunMode): RunView {
  const ms = k.clock.now()
  const now = iso(ms)
  const queued = mode === 'async'
  return {
    // Time-ordered: run rows are the hot path's largest insert (see timeOrderedId).
    id: timeOrderedId('run', ms), source: req.source, source_id: req.sourceId, owner_id: req.ownerId, workspace_id: req.workspaceId,
    mode, status: queued ? 'queued' : 'running', model: req.spec?.model || null, input: req.input.message, output: null, output_parsed: 0, raw_output: null, tool_calls: '[]',
    tokens_input: 0, tokens_output: 0, iterations: 0, cost_micro: 0, charged_micro: 0, latency_ms: 0, caller: req.caller ?? null, error: null,
    error_code: null, error_status: null, callback_url: req.callbackUrl ?? null, callback_status: null, callback_attempts: 0,
    callback_last_status: null, meta: JSON.stringify(req.meta ?? {}), created_at: now, started_at: queued ? null : now, finished_at: null,
  }
}

/**
 * Fills the outcome into the row. Cost = LLM cost + the price per run (charged only for successful runs);
 * charged = what the owner's wallet pays: the LLM cost when the wallet pays it, plus the price.
 */
export function applyOutcome(k: Kernel, row: RunView, req: RunRequest, c: Collected): RunView {
  const r = c.result
  const llm = Math.max(0, Math.round(r.usage.cost_micro))
  const price = c.ok ? fromCents(req.pricePerRunCents ?? 0) : 0
  row.status = row.mode === 'test' ? 'test' : c.ok ? 'success' : c.code === 'cancelled' ? 'cancelled' : 'error'
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
  row.charged_micro = (chargesLlm(req) ? llm : 0) + price
  row.error = c.ok ? null : c.error
  row.error_code = c.ok ? null : c.code
  row.error_status = c.ok ? null : c.status
  row.finished_at = iso(k.clock.now())
  row.started_at ??= row.created_at
  if (row.callback_url) row.callback_status = 'pending'
  return row
}

/** The usage block of API answers and of run.* events. */
export const usageOf = (row: RunView) => ({
  tokens_input: row.tokens_input, tokens_output: row.tokens_output, cost_cents: toCents(row.cost_micro),
  latency_ms: row.latency_ms, iterations: row.iterations,
})

export const outcomeOf = (e: TerminalEvent): Collected =>
  e.type === 'run.completed' ? { ok: true, result: e.result } : { ok: false, result: e.result, error: e.error, code: e.code, status: e.status }

/** A thrown error as a failed outcome; unexpected errors say what failed without raw exception text. */
export function failure(err: unknown, k?: Kernel, runId?: string): Failed {
  if (err instanceof ApiError) return { ok: false, result: emptyResult(), error: err.message, code: err.code, status: err.status }
  k?.log.error('run failed unexpectedly', { run_id: runId, error: String((err as Error)?.stack ?? err) })
  return { ok: false, result: emptyResult(), error: 'The run failed because of an internal error', code: 'internal_error', status: 500 }
}

export const failed = (f: RunFailure): Failed => ({ ok: false, result: emptyResult(), error: f.message, code: f.code, status: f.status })

/** Our own stop reasons (cancel, shutdown, endpoint deleted) say more than the runtime's generic ones. */
export function withAbortReason(c: Collected, signal: AbortSignal): Collected {
  if (!c.ok && signal.aborted && signal.reason instanceof ApiError) {
    return { ...c, error: signal.reason.message, code: signal.reason.code, status: signal.reason.status }
  }
  return c
}

/** The terminal event to record and send for an outcome (the runtime's own when there is one). */
export function terminalFor(row: RunView, c: Collected, final: TerminalEvent | null): TerminalEvent {
  if (c.ok && final?.type === 'run.completed') {
    final.result.usage.cost_cents = toCents(row.cost_micro)
    return final
  }
  const f = c.ok ? failure(new ApiError(500, 'The run ended without a result', 'internal_error')) : c
  return { type: 'run.failed', run_id: row.id, error: f.error, code: f.code, status: f.status, result: c.result }
}
