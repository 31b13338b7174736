import type { Kernel } from '../../src/kernel'
import { onBoot, scheduler } from '../../src/scheduler/index'
import { recoverRuns } from './recover'
import { agentHandler } from './runner'

/** Wiring for the agents domain: its scheduler handler, and the runs a stopped process left open (followed or closed). */
export function register(k: Kernel) {
  scheduler(k).handle('agent', agentHandler(k))
  onBoot(k, 'agents', () => recoverRuns(k))
}
