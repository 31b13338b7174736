import type { Kernel } from '../../src/kernel'
import { nowIso } from '../../src/clock'
import { onBoot, scheduler } from '../../src/scheduler/index'
import { agentHandler } from './runner'
import * as store from './store'

/** Wiring for the agents domain: its scheduler handler, and closing runs a stopped process left open. */
export function register(k: Kernel) {
  scheduler(k).handle('agent', agentHandler(k))
  onBoot(k, 'agents', () => { store.interruptOpen(k.db, nowIso(k.clock)) })
}
