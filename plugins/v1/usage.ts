import type { Kernel } from '../../src/kernel'
import type { DomainEvent } from '../../src/events/bus'
import { badRequest } from '../../src/http/errors'
import { iso } from '../../src/clock'
import { listScope, type Principal } from '../../src/auth/principal'
import * as wallet from '../wallet/service'
import { agentsStore, usageStore, type UsageDelta, type UsageDim } from './store'

/**
 * The usage rollup behind GET /v1/analytics/usage: one row per (owner, workspace, dimension, hour, key), bumped
 * as runs finish (run.completed / run.failed of endpoint runs, bot.message.sent of bot answers), so queries
 * read a few rows per hour whatever the number of runs. Increments are batched into one transaction per
 * FLUSH_MS (queries flush first); a crash can lose at most that window of increments.
 */

const FLUSH_MS = 50

/** Who caused a run, for the channel and token dimensions: set by the surface before the run finishes. */
export interface Attribution { channel: string; token: string }

class UsageRollup {
  private pending: UsageDelta[] = []
  private timer: ReturnType<typeof setTimeout> | null = null
  readonly attributions = new Map<string, Attribution>()
  constructor(private k: Kernel) {}

  add(d: UsageDelta) {
    this.pending.push(d)
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS)
  }

  flush() {
    if (this.timer) { clearTimeout(this.timer); this.timer = null }
    const batch = this.pending
    if (!batch.length) return
    this.pending = []
    try {
      const store = usageStore(this.k.db)
      this.k.db.transaction(() => { for (const d of batch) store.add(d) })()
    } catch (err) {
      this.k.log.error('usage rollup write failed', { error: (err as Error).message, runs: batch.length })
    }
  }

  close() { this.flush() }
}

export const rollup = (k: Kernel) => k.singleton('v1.usage-rollup', () => new UsageRollup(k))

/** Called by a surface right after it starts a run (before the run can finish). */
export const attribute = (k: Kernel, runId: string, a: Attribution) => { rollup(k).attributions.set(runId, a) }

const hourOf = (createdAt: string) => `${createdAt.slice(0, 13)}:00:00Z`

/** Turns a finished run's event into a rollup increment. */
export function onRunEvent(k: Kernel, e: DomainEvent) {
  const d = e.data as Record<string, any>
  const r = rollup(k)
  if ((e.type === 'run.completed' || e.type === 'run.failed') && typeof d.endpoint_id === 'string') {
    const who = r.attributions.get(d.run_id)
    r.attributions.delete(d.run_id)
    const agent = agentsStore(k.db).model(d.endpoint_id)
    if (!agent) return
    const u = d.usage ?? {}
    r.add({
      ownerId: e.owner_id, workspaceId: agent.workspace_id, hour: hourOf(e.created_at),
      keys: { agent: d.endpoint_id, model: agent.model, channel: who?.channel ?? 'api', token: who?.token ?? 'endpoint_key' },
      tokensIn: u.tokens_input ?? 0, tokensOut: u.tokens_output ?? 0, costMicro: wallet.fromCents(u.cost_cents ?? 0), error: e.type === 'run.failed',
    })
  } else if (e.type === 'bot.message.sent' && typeof d.bot_id === 'string') {
    const agent = agentsStore(k.db).model(d.bot_id)
    if (!agent) return
    // /v1 messages reach bots on chat ids `v1:<channel>:<token or user>`; the rest came from the bot's platform.
    const v1 = typeof d.platform_chat_id === 'string' ? /^v1:([^:]*):(.*)$/.exec(d.platform_chat_id) : null
    r.add({
      ownerId: e.owner_id, workspaceId: agent.workspace_id, hour: hourOf(e.created_at),
      keys: { agent: d.bot_id, model: agent.model, channel: v1 ? v1[1] : String(d.platform ?? 'platform'), token: v1 ? v1[2] : 'platform' },
      tokensIn: d.tokens?.input ?? 0, tokensOut: d.tokens?.output ?? 0, costMicro: wallet.fromCents(d.cost_cents ?? 0), error: !!d.failed,
    })
  }
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
  // Whole hours: a bucket starting before `to` is included.
  const from = iso(Math.floor(fromMs / HOUR) * HOUR)
  const to = iso(Math.ceil(toMs / HOUR) * HOUR)
  const { ownerId, workspaceId } = listScope(p)
  const rows = usageStore(k.db).query({ ownerId, workspaceId, dim, from, to, day: bucket === 'day' })
  const totals = { runs: 0, tokens_input: 0, tokens_output: 0, cost_cents: 0, errors: 0 }
  const data = rows.map((r) => {
    totals.runs += r.runs; totals.tokens_input += r.tokens_input; totals.tokens_output += r.tokens_output; totals.errors += r.errors
    totals.cost_cents += wallet.toCents(r.cost_micro)
    return {
      bucket: bucket === 'day' ? `${r.bucket}T00:00:00Z` : r.bucket, group: r.key, runs: r.runs, tokens_input: r.tokens_input,
      tokens_output: r.tokens_output, cost_cents: wallet.toCents(r.cost_micro), errors: r.errors,
    }
  })
  return { from, to, bucket, group_by: dim, data, totals }
}
