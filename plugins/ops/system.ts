import { lastBackupAt } from '../../src/db/last-backup'
import { Elysia, t } from 'elysia'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import { iso } from '../../src/clock'
import { systemStore } from './store'

const DAY_MS = 86_400_000
const PROBE_TTL_MS = 60_000
const PROBE_TIMEOUT_MS = 1500

const Window = t.Object({ runs: t.Integer(), failures: t.Integer(), cost_cents: t.Number() })
const SystemInfo = t.Object({
  version: t.String(), started_at: t.String(), uptime_s: t.Integer(),
  database: t.Object({ size_bytes: t.Integer(), wal_bytes: t.Integer() }),
  last_backup_at: t.Nullable(t.String({ description: 'When `agentbase backup` last wrote a copy (null: never)' })),
  queues: t.Object({
    runs_queued: t.Integer(), runs_running: t.Integer(), bot_inbox_pending: t.Integer(),
    webhook_deliveries_pending: t.Integer({ description: 'The webhook backlog' }), webhook_deliveries_failed: t.Integer(),
  }),
  providers: t.Array(t.Object({
    name: t.String(), base_url: t.String(), configured: t.Boolean({ description: 'A platform key is set (Ollama needs none)' }),
    reachable: t.Nullable(t.Boolean({ description: 'null: not probed (not configured)' })), checked_at: t.Nullable(t.String()),
  })),
  runs: t.Object({ last_7_days: Window, previous_7_days: Window }),
})

type Probe = { reachable: boolean; at: number }
const probes = new WeakMap<Kernel, Map<string, Probe>>()

/** Any HTTP answer counts as reachable (a 401 still proves the host is there); cached for a minute. */
async function probe(k: Kernel, url: string): Promise<Probe> {
  let cache = probes.get(k)
  if (!cache) probes.set(k, (cache = new Map()))
  const hit = cache.get(url)
  if (hit && k.clock.now() - hit.at < PROBE_TTL_MS) return hit
  let reachable = false
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS), redirect: 'manual' })
    await res.body?.cancel()
    reachable = true
  } catch { reachable = false }
  const result = { reachable, at: k.clock.now() }
  cache.set(url, result)
  return result
}

async function providers(k: Kernel) {
  const { llmKeys, llmBaseUrls } = k.config
  const list = (Object.keys(llmBaseUrls) as (keyof typeof llmBaseUrls)[]).map((name) => ({
    name, base_url: llmBaseUrls[name],
    configured: name === 'ollama' ? true : !!llmKeys[name as keyof typeof llmKeys],
    // Probe paths that answer without a key on every provider: the model list, Ollama's version.
    // Ollama's own API sits beside its OpenAI-compatible /v1.
    probeUrl: name === 'ollama' ? `${llmBaseUrls[name].replace(/\/v1\/?$/, '')}/api/version` : `${llmBaseUrls[name]}/models`,
  }))
  return Promise.all(list.map(async ({ probeUrl, ...p }) => {
    if (!p.configured) return { ...p, reachable: null, checked_at: null }
    const r = await probe(k, probeUrl)
    return { ...p, reachable: r.reachable, checked_at: iso(r.at) }
  }))
}

const windowView = (w: { runs: number; failures: number; cost_micro: number }) => ({ runs: w.runs, failures: w.failures, cost_cents: w.cost_micro / 1_000_000 })
const fileBytes = (path: string) => { try { return statSync(path).size } catch { return 0 } }

/** GET /api/admin/system: what the console's Overview shows an operator at a glance. */
export const systemRoutes = (k: Kernel) =>
  new Elysia({ name: 'ops.system', seed: k.seed, prefix: '/api/admin', detail: { tags: ['Admin'] } })
    .use(authGuard(k))
    .get('/system', async () => {
      const store = systemStore(k.db)
      const now = k.clock.now()
      const at = (days: number) => iso(now - days * DAY_MS)
      return {
        version: k.version, started_at: iso(k.startedAt), uptime_s: Math.floor((now - k.startedAt) / 1000),
        database: { size_bytes: store.pageBytes(), wal_bytes: fileBytes(join(k.config.dataDir, 'agentbase.db-wal')) },
        last_backup_at: lastBackupAt(k.config.dataDir),
        queues: store.queues(),
        providers: await providers(k),
        runs: { last_7_days: windowView(store.runWindow(at(7), iso(now + 1000))), previous_7_days: windowView(store.runWindow(at(14), at(7))) },
      }
    }, {
      auth: { admin: true },
      response: SystemInfo,
      detail: { summary: 'Instance overview (admins): version, uptime, database and WAL size, last backup, queues, provider reachability, runs and cost over 7 days vs the 7 before' },
    })
