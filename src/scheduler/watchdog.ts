import type { Kernel } from '../kernel'
import { iso } from '../clock'
import * as store from './store'
import type { Scheduler } from './engine'

/** A schedule this late means the timer stopped firing (a schedule must never silently stop). */
export const OVERDUE_MS = 30_000

export interface WatchdogReport { overdue: number; stalled: boolean; last_tick_at: string | null; alerts: number }

/**
 * Compares what should have fired with what did: active schedules whose next_run_at is long past were
 * due and not fired. Logged at error level, then the scheduler is kicked so they fire (or are counted
 * missed per their catch-up policy).
 */
export class Watchdog {
  alerts = 0
  last: WatchdogReport = { overdue: 0, stalled: false, last_tick_at: null, alerts: 0 }
  constructor(private k: Kernel, private s: Scheduler) {}

  check(): WatchdogReport {
    const now = this.k.clock.now()
    const overdue = store.overdueCount(this.k.db, now - OVERDUE_MS)
    const stalled = this.s.lastTickAt !== null && now - this.s.lastTickAt > 3 * OVERDUE_MS
    if ((overdue > 0 || stalled) && this.s.lease.ensure(now)) {
      this.alerts++
      this.k.log.error('scheduler: schedules overdue, the timer stopped firing them', {
        overdue, stalled, last_tick_at: this.s.lastTickAt === null ? null : iso(this.s.lastTickAt),
      })
      try { this.s.tick() } catch (err) { this.k.log.error('scheduler: watchdog tick failed', { error: (err as Error).message }) }
      this.s.arm()
    }
    this.last = { overdue, stalled, last_tick_at: this.s.lastTickAt === null ? null : iso(this.s.lastTickAt), alerts: this.alerts }
    return this.last
  }
}
