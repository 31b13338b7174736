/**
 * Analytics and insights, computed from bot_messages and bot_conversations (indexed by bot and time):
 * always consistent with the conversations, and gone with them when the bot is deleted.
 */
import type { Kernel } from '../../src/kernel'
import { badRequest } from '../../src/http/errors'
import { iso } from '../../src/clock'
import { toCents } from '../wallet/service'
import type { BotRow } from './store'

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

interface DayAgg {
  day: string; messages: number; received: number; sent: number; conversations: number; tokens_in: number; tokens_out: number
  cost: number; errors: number; latency_sum: number; latency_n: number
}

const round1 = (n: number) => Math.round(n * 10) / 10

export function analytics(k: Kernel, bot: BotRow, q: { from?: string; to?: string }) {
  const { from, to, start, end } = resolveRange(k, q)
  const db = k.db
  const rows = db.query<DayAgg, [string, string, string]>(
    `SELECT substr(created_at, 1, 10) AS day, count(*) AS messages,
       coalesce(sum(role = 'user'), 0) AS received, coalesce(sum(role = 'assistant'), 0) AS sent,
       count(DISTINCT conversation_id) AS conversations,
       coalesce(sum(tokens_input), 0) AS tokens_in, coalesce(sum(tokens_output), 0) AS tokens_out, coalesce(sum(cost_micro), 0) AS cost,
       coalesce(sum(kind = 'fallback'), 0) AS errors,
       coalesce(sum(CASE WHEN role = 'assistant' AND kind != 'welcome' THEN latency_ms END), 0) AS latency_sum,
       count(CASE WHEN role = 'assistant' AND kind != 'welcome' THEN latency_ms END) AS latency_n
     FROM bot_messages WHERE bot_id = ? AND created_at >= ? AND created_at < ? GROUP BY day`,
  ).all(bot.id, start, end)
  const started = new Map(db.query<{ day: string; n: number }, [string, string, string]>(
    `SELECT substr(started_at, 1, 10) AS day, count(*) AS n FROM bot_conversations WHERE bot_id = ? AND started_at >= ? AND started_at < ? GROUP BY day`,
  ).all(bot.id, start, end).map((r) => [r.day, r.n]))
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
  const stopRows = db.query<{ reason: string; n: number }, [string, string, string]>(
    `SELECT stop_reason AS reason, count(*) AS n FROM bot_messages WHERE bot_id = ? AND kind = 'fallback' AND created_at >= ? AND created_at < ? GROUP BY stop_reason`,
  ).all(bot.id, start, end)
  const stops = Object.fromEntries(stopRows.map((r) => [r.reason ?? 'unknown', r.n]))
  // Conversations active in the range: started before its end, last message after its start.
  const convStats = db.query<{ conversations: number; users: number }, [string, string, string]>(
    `SELECT count(*) AS conversations, count(DISTINCT platform_user_id) AS users
     FROM bot_conversations WHERE bot_id = ?1 AND started_at < ?3 AND last_message_at >= ?2`,
  ).get(bot.id, start, end)!
  const topTools = db.query<{ tool: string; calls: number; failures: number; avg_latency_ms: number | null }, [string, string, string]>(
    `SELECT json_extract(j.value, '$.tool') AS tool, count(*) AS calls,
       coalesce(sum(json_extract(j.value, '$.success') = 0), 0) AS failures, avg(json_extract(j.value, '$.latency_ms')) AS avg_latency_ms
     FROM bot_messages m, json_each(m.tool_calls) j
     WHERE m.bot_id = ? AND m.created_at >= ? AND m.created_at < ? AND m.role = 'assistant' AND m.tool_count > 0
     GROUP BY tool ORDER BY calls DESC, tool LIMIT 10`,
  ).all(bot.id, start, end).map((t) => ({ ...t, avg_latency_ms: round1(t.avg_latency_ms ?? 0) }))
  // A conversation silent for longer than the TTL is over even before the next message marks it expired.
  const cutoff = iso(k.clock.now() - bot.conversation_ttl_hours * 3600_000)
  const byStatus = db.query<{ status: string; n: number }, [string, string, string, string]>(
    `SELECT CASE WHEN status = 'expired' OR last_message_at <= ? THEN 'expired' ELSE 'active' END AS status, count(*) AS n
     FROM bot_conversations WHERE bot_id = ? AND started_at >= ? AND started_at < ? GROUP BY 1`,
  ).all(cutoff, bot.id, start, end)
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
  const resolved = `(a.tool_count > 0 AND a.kind = 'message')`
  const totals = k.db.query<{ total: number; answered: number }, [string]>(
    `SELECT count(*) AS total, coalesce(sum(${resolved}), 0) AS answered FROM bot_messages a WHERE a.bot_id = ? AND a.role = 'assistant' AND a.kind != 'welcome'`,
  ).get(botId)!
  const unanswered = k.db.query<{ question: string | null; bot_response: string; created_at: string; conversation_id: string }, [string, number]>(
    `SELECT u.content AS question, a.content AS bot_response, a.created_at, a.conversation_id
     FROM bot_messages a LEFT JOIN bot_messages u ON u.id = a.reply_to
     WHERE a.bot_id = ? AND a.role = 'assistant' AND a.kind != 'welcome' AND NOT ${resolved}
     ORDER BY a.created_at DESC, a.seq DESC LIMIT ?`,
  ).all(botId, INSIGHTS_LIMIT)
  return {
    unanswered_questions: unanswered.map((r) => ({ question: r.question ?? '', bot_response: r.bot_response, created_at: r.created_at, conversation_id: r.conversation_id })),
    resolution_rate: totals.total ? Math.round((totals.answered * 100) / totals.total) : 0,
    total_answered: totals.answered,
    total_responses: totals.total,
  }
}
