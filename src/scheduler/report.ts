import type { Kernel } from '../kernel'
import { iso } from '../clock'
import { schedulerService } from './index'
import * as store from './store'

const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms))

/** What GET /api/admin/jobs shows: the system jobs and the scheduler's health (plain data; routes live in plugins/ops). */
export function jobsReport(k: Kernel) {
  const svc = schedulerService(k)
  const lease = store.lease(k.db)
  const report = svc.watchdog.last
  return {
    jobs: store.systemJobs(k.db).map((r) => ({
      name: r.name, status: r.status,
      schedule: { type: r.type, cron: r.cron, interval_seconds: r.interval_ms === null ? null : r.interval_ms / 1000, timezone: r.timezone },
      next_run_at: r.status === 'active' ? isoOrNull(r.next_run_at) : null, last_run_at: isoOrNull(r.last_fire_at), last_status: r.last_status, last_error: r.last_error,
      fire_count: r.fire_count, missed_count: r.missed_count, skipped_count: r.skipped_count, consecutive_failures: r.consecutive_failures,
      recent_fires: store.recentSystemFires(k.db, r.id, 5).map((f) => ({ slot: iso(f.slot), kind: f.kind, status: f.status, started_at: isoOrNull(f.started_at), finished_at: isoOrNull(f.finished_at), error: f.error })),
    })),
    scheduler: {
      lease_holder: lease?.holder ?? null, fencing_token: lease?.token ?? null, lease_expires_at: lease ? iso(lease.expires_at) : null,
      holds_lease: !!lease && lease.holder === svc.scheduler.lease.holder && lease.expires_at > k.clock.now(),
      last_tick_at: isoOrNull(svc.scheduler.lastTickAt), active_schedules: store.activeCount(k.db),
      overdue: store.overdueCount(k.db, k.clock.now() - 30_000), watchdog_alerts: report.alerts,
    },
  }
}
