import type { Kernel } from '../../src/kernel'
import { engine } from './engine'
import { resumeUnfinished } from './service'
import { replayEventTriggers, subscribeEventTriggers } from './triggers'
import { registerWorkflowTools } from './tool-provider'

/**
 * The workflows domain's wiring: event triggers on the bus, the worker that resumes unfinished executions
 * when serve starts, and the `workflow` run source. Model calls of llm steps are started (never queued) by
 * the engine; a run interrupted by a crash is not resumed by the run service: the engine re-sends the step
 * attempt under the same idempotency key instead.
 */
export function register(k: Kernel) {
  subscribeEventTriggers(k)
  registerWorkflowTools(k)
  k.runs.registerSource('workflow', { resume: () => null })
  k.workers.register({
    name: 'workflows.resume',
    start() {
      resumeUnfinished(k)
      replayEventTriggers(k)
      return () => engine(k).stop()
    },
  })
}
