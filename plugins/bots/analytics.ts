/**
 * Analytics and insights, computed from bot_messages and bot_conversations (indexed by bot and time):
 * always consistent with the conversations, and gone with them when the bot is deleted.
 */
import type { Kernel } from '../../src/kernel'
import { badRequest } from '../../src/http/errors'
import { iso } from '../../src/clock'
import { toCents } from '../wallet/service'
import { analyticsStore, type BotRow, type DayAgg } from './store'

const DAY = 86400_000
export const MAX_RANGE_DAYS = 366
export const DEFAULT_RANGE_DAYS = 30
export const INSIGHTS_LIMIT = 50

const dayOf = (ms: number) => iso(ms).slice(0, 10)

function parseDay(field: string, v: string): number {
  const ms = Date.parse(`${v}T00:00:00Z`)
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(ms) || dayOf(ms) !== v) throw badRequest(`${field} must be a date as YYYY-MM-DD`, { [field]: 'must be a date as YYYY-MM-DD' })
  return ms
}

/** Resolves ?from=&to= (defaults: 30 days ago .. today, UTC) into day bounds; 400 on bad input. */
export function resolveRange(k: Kernel, q: { from?: string; to?: string }) {
  const today = Date.parse(`${dayOf(k.clock.now())}T00:00:00Z`)
  const to = q.to ? parseDay('to', q.to) : today
  const from = q.from ? parseDay('from', q.from) : to - DEFAULT_RANGE_DAYS * DAY
  if (from > to) throw badRequest('from must not be after to', { from: 'must not be after to' })
  if ((to - from) / DAY + 1 > MAX_RANGE_DAYS) throw badRequest(`The range may span at most ${MAX_RANGE_DAYS} days`, { from: `range must span at most ${MAX_RANGE_DAYS} days` })
  return { from, to, start: iso(from), end: iso(to + DAY) }
}


const round1 = (n: number) => Math.round(n * 10) / 10

export function analytics(k: Kernel, bot: BotRow, q: { from?: string; to?: string }) {
  const { from, to, start, end } = resolveRange(k, q)
  const store = analyticsStore(k.db)
  const rows = store.daily(bot.id, start, end)
  const started = new Map(store.started(bot.id, start, end).map((r) => [r.day, r.n]))
  const byDay = new Map(rows.map((r) => [r.day, r]))
  const daily = []
  for (let d = from; d <= to; d += DAY) {
    const day = dayOf(d), r = byDay.get(day)
    daily.push({
      date: day, messages: r?.messages ?? 0, messages_received: r?.received ?? 0, messages_sent: r?.sent ?? 0,
      conversations: r?.conversations ?? 0, new_conversations: started.get(day) ?? 0,
      tokens_input: r?.tokens_in ?? 0, tokens_output: r?.tokens_out ?? 0, cost_cents: toCents(r?.cost ?? 0), errors: r?.errors ?? 0,
      avg_latency_ms: r?.latency_n ? round1(r.latency_sum / r.latency_n) : 0,
    })
  }
  const sum = (f: (r: DayAgg) => number) => rows.reduce((a, r) => a + f(r), 0)
  const latencyN = sum((r) => r.latency_n)
  const avgLatency = latencyN ? round1(sum((r) => r.latency_sum) / latencyN) : 0
  const stopRows = store.stops(bot.id, start, end)
  const stops = Object.fromEntries(stopRows.map((r) => [r.reason ?? 'unknown', r.n]))
  // Conversations active in the range: started before its end, last message after its start.
  const convStats = store.conversations(bot.id, start, end)
  const topTools = store.topTools(bot.id, start, end).map((t) => ({ ...t, avg_latency_ms: round1(t.avg_latency_ms ?? 0) }))
  // A conversation silent for longer than the TTL is over even before the next message marks it expired.
  const cutoff = iso(k.clock.now() - bot.conversation_ttl_hours * 3600_000)
  const byStatus = store.byStatus(cutoff, bot.id, start, end)
  return {
    bot_id: bot.id, from: dayOf(from), to: dayOf(to),
    daily,
    summary: {
      messages: sum((r) => r.messages), messages_received: sum((r) => r.received), messages_sent: sum((r) => r.sent),
      conversations: convStats.conversations, new_conversations: [...started.values()].reduce((a, b) => a + b, 0), unique_users: convStats.users,
      tokens_input: sum((r) => r.tokens_in), tokens_output: sum((r) => r.tokens_out), cost_cents: toCents(sum((r) => r.cost)),
      errors: sum((r) => r.errors), avg_latency_ms: avgLatency, spending_cap_stops: stops.spending_cap ?? 0, quota_stops: stops.quota_exceeded ?? 0,
    },
    top_tools: topTools,
    avg_latency_ms: avgLatency,
    conversations_by_status: { active: 0, expired: 0, ...Object.fromEntries(byStatus.map((r) => [r.status, r.n])) },
    stop_reasons: stops,
    spending_cap: {
      cap_cents: bot.spending_cap_micro === null ? null : toCents(bot.spending_cap_micro), total_cost_cents: toCents(bot.total_cost_micro),
      reached: bot.spending_cap_micro !== null && bot.total_cost_micro >= bot.spending_cap_micro, stops: stops.spending_cap ?? 0,
    },
  }
}

/**
 * Insights: an answer is "resolved" when the agent used at least one tool and the run succeeded; every
 * other response (no tool, or a fallback) is an unanswered question. All time; the latest 50 listed.
 */
export function insights(k: Kernel, botId: string) {
  const totals = analyticsStore(k.db).insightTotals(botId)
  const unanswered = analyticsStore(k.db).unanswered(botId, INSIGHTS_LIMIT)
  return {
    unanswered_questions: unanswered.map((r) => ({ question: r.question ?? '', bot_response: r.bot_response, created_at: r.created_at, conversation_id: r.conversation_id })),
    resolution_rate: totals.total ? Math.round((totals.answered * 100) / totals.total) : 0,
    total_answered: totals.answered,
    total_responses: totals.total,
  }
}
