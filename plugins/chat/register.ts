import type { Kernel } from '../../src/kernel'

/**
 * The chat domain's wiring. Chat turns are never queued on the run pool (a turn waits in its conversation's
 * line instead), so a chat run found unfinished after a restart is not resumed: the run service marks it failed.
 */
export function register(k: Kernel) {
  k.runs.registerSource('chat', { resume: () => null })
}
