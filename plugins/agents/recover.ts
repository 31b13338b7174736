import { perKernel, type Kernel } from '../../src/kernel'
import { nowIso } from '../../src/clock'
import { executionContinues, followExecution, type WorkflowOutcome } from './execute'
import { finishAgentRun } from './finish'
import * as store from './store'

/**
 * Runs a stopped process left open. The workflow engine resumes their executions durably, so such a run
 * follows its execution to the real outcome (succeeded, or failed with the execution's error), with its
 * duration counted from the original start; only a run whose execution cannot go on (none was created, or it
 * was cancelled) is closed as interrupted. The scheduler's resume hook (runner.ts) attaches the fire of a
 * followed run, so its failure streak and events follow the real outcome too.
 */

interface Follower { done: Promise<store.RunRow | null>; ctrl: AbortController }

const followers = perKernel(() => new Map<string, Follower>())

export const followerOf = (k: Kernel, runId: string): Follower | null => followers(k).get(runId) ?? null

/** Start-up, before the scheduler's reconciler: each open run is followed or interrupted. */
export function recoverRuns(k: Kernel) {
  const now = nowIso(k.clock)
  for (const run of store.openRuns(k.db)) {
    if (followers(k).has(run.id)) continue
    if (!executionContinues(k, run.execution_id)) { store.interruptRun(k.db, run.id, now); continue }
    const ctrl = new AbortController()
    const done = follow(k, run, ctrl.signal).finally(() => followers(k).delete(run.id))
    followers(k).set(run.id, { done, ctrl })
  }
}

async function follow(k: Kernel, run: store.RunRow, signal: AbortSignal): Promise<store.RunRow | null> {
  const agent = store.get(k.db, run.agent_id)
  if (!agent) return null
  const startedAt = Date.parse(run.started_at)
  let o: WorkflowOutcome
  try {
    o = await followExecution(k, run.execution_id!, JSON.parse(agent.agent_config), startedAt, signal)
  } catch (err) {
    o = { ok: false, executionId: run.execution_id, output: null, error: (err as Error).message, code: null, tokens: 0, costCents: 0 }
  }
  finishAgentRun(k, agent, run, o, signal, Math.max(0, k.clock.now() - startedAt))
  return store.getRun(k.db, run.id) ?? null
}
