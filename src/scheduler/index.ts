import { perKernel, type Kernel } from '../kernel'
import { Scheduler } from './engine'
import { Watchdog } from './watchdog'

export { Scheduler } from './engine'
export type { ScheduleSpec, Handler, FireContext, FireOutcome } from './types'

const WATCHDOG_EVERY_MS = 15_000

export interface SchedulerService {
  scheduler: Scheduler
  watchdog: Watchdog
  /** Start-up work before firing: system jobs installed, interrupted fires closed, next runs recomputed. */
  boot(): void
}

const boots = new WeakMap<Kernel, Map<string, () => void>>()

/** The kernel's scheduler (one per kernel). Domains register handlers and start-up steps on it. */
export const schedulerService: (k: Kernel) => SchedulerService = perKernel((k) => {
    const scheduler = new Scheduler(k)
    const watchdog = new Watchdog(k, scheduler)
    return {
      scheduler, watchdog,
      boot() {
        for (const b of boots.get(k)?.values() ?? []) b()
        scheduler.reconcile()
      },
      close() { scheduler.close() },
    }
})

export const scheduler = (k: Kernel) => schedulerService(k).scheduler

/** A step run at boot before the reconciler (housekeeping installs its system jobs this way). */
export function onBoot(k: Kernel, key: string, fn: () => void) {
  const steps = boots.get(k) ?? new Map()
  steps.set(key, fn)
  boots.set(k, steps)
}

/**
 * The background worker: started only by `serve` (k.workers.start), never by createApp. Boots, fires
 * what is due, then one timer for the earliest due schedule and a watchdog.
 */
export function registerSchedulerWorker(k: Kernel) {
  k.workers.register({
    name: 'scheduler',
    start() {
      const svc = schedulerService(k)
      svc.boot()
      svc.scheduler.tick()
      svc.scheduler.startTimers()
      const wd = setInterval(() => svc.watchdog.check(), WATCHDOG_EVERY_MS)
      return async () => {
        clearInterval(wd)
        await svc.scheduler.stop(k.config.shutdownGraceMs)
      }
    },
  })
}
