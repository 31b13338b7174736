import type { Kernel } from '../../src/kernel'
import { collect, preflight, run, type Collected, type RunInput } from '../../src/agent/run'
import type { AgentSpec, RunEvent } from '../../src/agent/types'

/**
 * The ONE place chat starts agent runs. It mirrors the run service's `k.runs.start(req)` shape (source "chat",
 * owner, workspace, spec, input, mode, meta) so moving onto `k.runs` when it lands is a change to this file only.
 * Until then it calls the runtime (src/agent/run.ts) directly; the orchestrator records messages, usage and cost.
 */

export interface ChatRunRequest {
  runId: string
  ownerId: string
  workspaceId: string | null
  /** The conversation (null for test-direct, intent and title calls). */
  sourceId: string | null
  spec: AgentSpec
  input: RunInput
  mode: 'sync' | 'stream' | 'test'
  /** Extra fields for run.started (conversation_id, message ids). */
  meta?: Record<string, unknown>
  signal?: AbortSignal
}

/** Checks the spec can run (key, base URL) without running anything: configuration errors are 400s before any write. */
export const checkRunnable = (k: Kernel, spec: AgentSpec) => preflight(k, spec)

export function startRun(k: Kernel, req: ChatRunRequest): { runId: string; events: AsyncIterable<RunEvent> } {
  const events = run(k, req.spec, req.input, { signal: req.signal, runId: req.runId, started: req.meta, stream: req.mode === 'stream' })
  return { runId: req.runId, events }
}

/** A whole run, collected (test-direct, intent classification, titles). */
export const executeRun = (k: Kernel, req: ChatRunRequest): Promise<Collected> => collect(startRun(k, req).events)
