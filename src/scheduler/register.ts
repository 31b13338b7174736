import type { Kernel } from '../kernel'
import { registerHousekeeping } from './housekeeping'
import { registerSchedulerWorker } from './index'

/** Wiring: the scheduler's worker (started only by serve) and its housekeeping jobs. */
export function register(k: Kernel) {
  registerHousekeeping(k)
  registerSchedulerWorker(k)
}
