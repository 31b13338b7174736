import type { Kernel } from '../../src/kernel'
import { preflight, type Collected, type RunInput } from '../../src/agent/run'
import type { AgentSpec, RunEvent, RunResult } from '../../src/agent/types'
import type { RunFailure, RunMode, RunView } from '../../src/runs/types'

/**
 * Every chat run goes through the run service (`k.runs`, source "chat"): it records the run and its events,
 * gates and debits billing (the wallet pays the platform key's cost), and calls `onFinish` inside the run's final
 * transaction, where the orchestrator saves the turn's messages.
 */

export interface ChatRunRequest {
  ownerId: string
  workspaceId: string | null
  /** The conversation (null for test-direct). */
  sourceId: string | null
  spec: AgentSpec
  input: RunInput
  mode: RunMode
  meta?: Record<string, unknown>
  /** Ids added to run.started and the run.* domain events (conversation_id). */
  refs?: Record<string, string>
  caller?: string | null
  /** Wallet ledger reason of the debit (`chat turn`, `chat title`, ...). */
  reason: string
  onFinish?: (run: RunView, result: RunResult) => void
}

const request = (req: ChatRunRequest) => ({
  source: 'chat' as const, sourceId: req.sourceId, ownerId: req.ownerId, workspaceId: req.workspaceId, spec: req.spec, input: req.input,
  mode: req.mode, meta: req.meta, refs: req.refs, caller: req.caller ?? null, onFinish: req.onFinish, billing: { reason: req.reason },
})

/** Checks the spec can run (key, base URL) without running anything: configuration errors are 400s before any write. */
export const checkRunnable = (k: Kernel, spec: AgentSpec) => preflight(k, spec)

/** A recorded run whose live events the caller consumes (closing them early cancels the run). */
export async function startRun(k: Kernel, req: ChatRunRequest): Promise<{ runId: string; events: AsyncIterable<RunEvent> }> {
  const s = await k.runs.start(request(req))
  return { runId: s.run.id, events: s.events }
}

/** A whole run, recorded (test-direct, intent classification, titles). 402 when billing refuses it. */
export async function executeRun(k: Kernel, req: ChatRunRequest, signal?: AbortSignal): Promise<Collected & { runId: string }> {
  const o = await k.runs.execute(request(req), { signal })
  return o.ok ? { ok: true, result: o.result, runId: o.run.id } : { ok: false, result: o.result, error: o.error!.message, code: o.error!.code, status: o.error!.status, runId: o.run.id }
}

export const cancelRun = (k: Kernel, runId: string, reason?: RunFailure) => k.runs.cancel(runId, reason)

/** The outcome a finished run's row records, in the runtime's terms. */
export const outcomeOfRun = (run: RunView, result: RunResult): Collected =>
  run.error === null ? { ok: true, result } : { ok: false, result, error: run.error, code: run.error_code ?? 'error', status: run.error_status ?? 500 }
