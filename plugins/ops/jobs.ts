import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import { jobsReport } from '../../src/scheduler/report'

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

/** GET /api/admin/jobs: the scheduler's system jobs and health (admins). */
export const jobsRoutes = (k: Kernel) =>
  new Elysia({ name: 'ops-jobs', seed: k.seed, prefix: '/api/admin', detail: { tags: ['Admin'] } })
    .use(authGuard(k))
    .get('/jobs', () => jobsReport(k), {
      auth: { admin: true }, response: JobsResponse,
      detail: { summary: 'System jobs on the scheduler (retention, WAL checkpoint and optimize, backups) and the scheduler\'s health (admins)' },
    })
