import { perKernel, type Kernel } from '../../src/kernel'
import type { RunView } from '../../src/runs/types'
import { badRequest } from '../../src/http/errors'
import { iso } from '../../src/clock'
import { listScope, type Principal } from '../../src/auth/principal'
import * as wallet from '../wallet/service'
import { usageStore, type UsageDelta, type UsageDim, type UsageIncrement } from './store'
import { getAgent, type AgentRow } from './directory'

/**
 * The usage rollup behind GET /v1/analytics/usage: one row per (owner, workspace, dimension, hour, key), bumped
 * as runs finish (run.completed / run.failed of endpoint runs, bot.message.sent of bot answers), so queries
 * read a few rows per hour whatever the number of runs. Increments are batched into one transaction per
 * FLUSH_MS (queries flush first); a crash can lose at most that window of increments.
 */

const FLUSH_MS = 50

class UsageRollup {
  private pending: UsageDelta[] = []
  private timer: ReturnType<typeof setTimeout> | null = null
  constructor(private k: Kernel) {}

  /** Agents looked up since the last flush: a window's runs of one agent cost one lookup. */
  private agents = new Map<string, AgentRow | null>()

  add(d: UsageDelta) {
    this.pending.push(d)
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS)
  }

  agent(id: string, kind?: 'endpoint'): AgentRow | null {
    let a = this.agents.get(id)
    if (a === undefined) this.agents.set(id, (a = getAgent(this.k, id, kind)))
    return a
  }

  flush() {
    if (this.timer) { clearTimeout(this.timer); this.timer = null }
    this.agents.clear()
    const batch = this.pending
    if (!batch.length) return
    this.pending = []
    try {
      const rows = sumIncrements(batch)
      this.k.db.transaction(() => usageStore(this.k.db).add(rows.values()))()
    } catch (err) {
      this.k.log.error('usage rollup write failed', { error: (err as Error).message, runs: batch.length })
    }
  }

  close() { this.flush() }
}

/** The window's runs summed per rollup row (8 rows per run: 4 dimensions x hour and day), so a busy agent costs 8 upserts a window, not 8 a run. */
function sumIncrements(batch: UsageDelta[]): Map<string, UsageIncrement> {
  const rows = new Map<string, UsageIncrement>()
  for (const d of batch) {
    const day = `${d.hour.slice(0, 10)}T00:00:00Z`
    for (const dim of DIMS) {
      for (const [grain, bucket] of [['hour', d.hour], ['day', day]] as const) {
        const id = `${d.ownerId}\u0000${d.workspaceId}\u0000${dim}\u0000${grain}\u0000${bucket}\u0000${d.keys[dim]}`
        const r = rows.get(id)
        if (r) { r.runs++; r.tokensIn += d.tokensIn; r.tokensOut += d.tokensOut; r.costMicro += d.costMicro; r.errors += d.error ? 1 : 0 }
        else rows.set(id, { ownerId: d.ownerId, workspaceId: d.workspaceId, dim, grain, bucket, key: d.keys[dim], runs: 1, tokensIn: d.tokensIn, tokensOut: d.tokensOut, costMicro: d.costMicro, errors: d.error ? 1 : 0 })
      }
    }
  }
  return rows
}
const DIMS = ['agent', 'model', 'channel', 'token'] as const

export const rollup = perKernel((k) => new UsageRollup(k))

const hourOf = (createdAt: string) => `${createdAt.slice(0, 13)}:00:00Z`

/**
 * A finished run's rollup increment. Channel and token come from the run's meta where its surface set them
 * (/v1 tasks, OpenAI-compatible, MCP); bots reached through /v1 use chat ids `v1:<channel>:<token>`; other bot
 * runs count under their platform, other endpoint runs under `api` with the endpoint's key. Chat and workflow
 * runs belong to no /v1 agent: no directory lookup for them (three misses per chat turn before).
 */
export function onRunFinished(k: Kernel, run: RunView, refs: Record<string, string>) {
  if (run.mode === 'test') return
  let meta: Record<string, unknown> = {}
  try { meta = JSON.parse(run.meta || '{}') } catch { /* no meta */ }
  const agentId = (refs.endpoint_id ?? refs.bot_id ?? run.source_id ?? run.source) as string
  const agent = run.source === 'chat' || run.source === 'workflow' ? null : rollup(k).agent(agentId, refs.endpoint_id ? 'endpoint' : undefined)
  const chat = typeof meta.chat_id === 'string' ? /^v1:([^:]*):(.*)$/.exec(meta.chat_id) : null
  const channel = typeof meta.channel === 'string' ? meta.channel
    : run.source === 'bot' ? (chat ? chat[1] : agent?.platform ?? 'platform') : run.source === 'endpoint' ? 'api' : run.source
  const token = typeof meta.token === 'string' ? meta.token
    : run.source === 'bot' ? (chat ? chat[2] : 'platform') : run.source === 'endpoint' ? 'endpoint_key' : (run.caller ?? 'unknown')
  rollup(k).add({
    ownerId: run.owner_id, workspaceId: agent?.workspace_id ?? run.workspace_id ?? '', hour: hourOf(run.finished_at ?? iso(k.clock.now())),
    keys: { agent: agentId, model: agent?.model ?? 'unknown', channel, token },
    tokensIn: run.tokens_input, tokensOut: run.tokens_output, costMicro: Math.round(run.cost_micro), error: run.error !== null,
  })
}

export interface UsageQuery { from?: string; to?: string; bucket?: 'hour' | 'day'; group_by?: UsageDim }

function parseTime(v: string, field: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : Date.parse(v)
  if (!Number.isFinite(ms)) throw badRequest(`${field} must be an ISO 8601 date or time (e.g. 2026-03-14 or 2026-03-14T10:00:00Z)`, { [field]: 'invalid date' })
  return ms
}

const HOUR = 3600_000
const MAX_RANGE_MS = 366 * 24 * HOUR

/** Runs, tokens, cost and errors per bucket and group, over [from, to) (defaults: the last 7 days). */
export function usage(k: Kernel, p: Principal, q: UsageQuery) {
  rollup(k).flush()
  const bucket = q.bucket ?? 'day'
  const dim = q.group_by ?? 'agent'
  const toMs = q.to ? parseTime(q.to, 'to') : k.clock.now()
  const fromMs = q.from ? parseTime(q.from, 'from') : toMs - 7 * 24 * HOUR
  if (fromMs >= toMs) throw badRequest('from must be before to', { from: 'must be before to' })
  if (toMs - fromMs > MAX_RANGE_MS) throw badRequest('The range may span at most 366 days', { from: 'range too long' })
  // Whole hours: a bucket starting before `to` is included. Whole days read the day rows.
  const from = iso(Math.floor(fromMs / HOUR) * HOUR)
  const to = iso(Math.ceil(toMs / HOUR) * HOUR)
  const wholeDays = from.endsWith('T00:00:00Z') && to.endsWith('T00:00:00Z')
  const grain = bucket === 'day' && wholeDays ? 'day' : 'hour'
  const { ownerId, workspaceId } = listScope(p)
  const rows = usageStore(k.db).query({ ownerId, workspaceId, dim, grain, from, to, dayOfHours: bucket === 'day' && grain === 'hour' })
  const totals = { runs: 0, tokens_input: 0, tokens_output: 0, cost_cents: 0, errors: 0 }
  const data = rows.map((r) => {
    totals.runs += r.runs; totals.tokens_input += r.tokens_input; totals.tokens_output += r.tokens_output; totals.errors += r.errors
    totals.cost_cents += wallet.toCents(r.cost_micro)
    return {
      bucket: r.bucket, group: r.key, runs: r.runs, tokens_input: r.tokens_input,
      tokens_output: r.tokens_output, cost_cents: wallet.toCents(r.cost_micro), errors: r.errors,
    }
  })
  return { from, to, bucket, group_by: dim, data, totals }
}
