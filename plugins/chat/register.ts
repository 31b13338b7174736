import type { Kernel } from '../../src/kernel'
import { recordFailedTurn } from './service'

/**
 * The chat domain's wiring. Chat turns are never queued on the run pool (a turn waits in its conversation's
 * line instead), so a chat run found unfinished after a restart is not resumed: the run service marks it failed
 * (`interrupted`), and the conversation gets an error message for that turn.
 */
export function register(k: Kernel) {
  k.runs.registerSource('chat', { resume: () => null })
  k.events.subscribe((e) => {
    const d = e.data
    if (e.type !== 'run.failed' || d.source !== 'chat' || d.status === 'test' || d.code !== 'interrupted' || typeof d.source_id !== 'string') return
    try {
      recordFailedTurn(k, d.source_id, String(d.run_id), String(d.error ?? 'The server stopped while this turn ran'))
    } catch (err) {
      k.log.warn('recording a lost chat turn failed', { run_id: d.run_id, error: String(err) })
    }
  })
}
