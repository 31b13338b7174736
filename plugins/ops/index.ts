import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { safeEqual } from '../../src/auth/keys'
import { systemRoutes } from './system'
import { jobsRoutes } from './jobs'

const Health = t.Object({
  status: t.String({ description: '"ok", or "degraded" when the database is unreachable' }),
  database: t.String(), version: t.String(), uptime_s: t.Integer(),
})

export const opsPlugin = (k: Kernel) =>
  new Elysia({ name: 'ops', seed: k.seed, detail: { tags: ['Operations'] } })
    .use(systemRoutes(k))
    .use(jobsRoutes(k))
    .get('/health', ({ set }) => {
      let database = 'ok'
      try {
        k.db.query('SELECT 1').get()
      } catch {
        database = 'unreachable'
        set.status = 503
      }
      return { status: database === 'ok' ? 'ok' : 'degraded', database, version: k.version, uptime_s: Math.floor((k.clock.now() - k.startedAt) / 1000) }
    }, {
      response: { 200: Health, 503: Health },
      detail: { summary: 'Liveness and database reachability' },
    })
    .get('/metrics', ({ request, set }) => {
      if (k.config.metricsToken) {
        const h = request.headers.get('authorization') ?? ''
        if (!safeEqual(h, `Bearer ${k.config.metricsToken}`)) throw new ApiError(401, 'Metrics need Authorization: Bearer <AGENTBASE_METRICS_TOKEN>')
      }
      set.headers['content-type'] = 'text/plain; version=0.0.4; charset=utf-8'
      return k.metrics.render()
    }, {
      response: t.String({ description: 'Prometheus text exposition format 0.0.4' }),
      detail: { summary: 'Prometheus metrics (bearer-protected when AGENTBASE_METRICS_TOKEN is set)', security: [{}, { metricsToken: [] }] },
    })
