import { Elysia, t } from 'elysia'
import type { Kernel } from '../kernel'
import { authGuard } from '../http/guard'
import { iso } from '../clock'
import { registerHousekeeping } from './housekeeping'
import { registerSchedulerWorker, schedulerService } from './index'
import * as store from './store'

const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms))

const Fire = t.Object({ slot: t.String(), kind: t.String(), status: t.String(), started_at: t.Nullable(t.String()), finished_at: t.Nullable(t.String()), error: t.Nullable(t.String()) })
const Job = t.Object({
  name: t.String(), status: t.String(), schedule: t.Object({ type: t.String(), cron: t.Nullable(t.String()), interval_seconds: t.Nullable(t.Number()), timezone: t.String() }),
  next_run_at: t.Nullable(t.String()), last_run_at: t.Nullable(t.String()), last_status: t.Nullable(t.String()), last_error: t.Nullable(t.String()),
  fire_count: t.Number(), missed_count: t.Number(), skipped_count: t.Number(), consecutive_failures: t.Number(), recent_fires: t.Array(Fire),
})
const JobsResponse = t.Object({
  jobs: t.Array(Job),
  scheduler: t.Object({
    lease_holder: t.Nullable(t.String()), fencing_token: t.Nullable(t.Number()), lease_expires_at: t.Nullable(t.String()), holds_lease: t.Boolean(),
    last_tick_at: t.Nullable(t.String()), active_schedules: t.Number(), overdue: t.Number(), watchdog_alerts: t.Number(),
  }),
})

function jobs(k: Kernel) {
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
      last_tick_at: isoOrNull(svc.scheduler.lastTickAt), active_schedules: k.db.query<{ n: number }, []>("SELECT count(*) AS n FROM schedules WHERE status = 'active'").get()!.n,
      overdue: store.overdueCount(k.db, k.clock.now() - 30_000), watchdog_alerts: report.alerts,
    },
  }
}

/** Wiring: the scheduler's worker (started only by serve) and its housekeeping jobs. */
export function register(k: Kernel) {
  registerHousekeeping(k)
  registerSchedulerWorker(k)
}

/** GET /api/admin/jobs. */
export const schedulerPlugin = (k: Kernel) =>
  new Elysia({ name: 'scheduler', seed: k, prefix: '/api/admin', detail: { tags: ['Admin'] } })
    .use(authGuard(k))
    .get('/jobs', () => jobs(k), {
      auth: { admin: true }, response: JobsResponse,
      detail: { summary: 'System jobs on the scheduler (retention, WAL checkpoint and optimize, backups) and the scheduler\'s health (admins)' },
    })
