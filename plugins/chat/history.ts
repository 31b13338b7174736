import type { ChatMessage, ToolCall } from '../../src/agent/types'
import { estimateTokens } from '../../src/agent/run'
import type { WindowRow } from './store'

/**
 * The context sent to the model: the newest messages that fit a token budget, in whole units. A unit is a user
 * message, a plain assistant answer, or an assistant message with tool_calls together with ALL its tool results,
 * so a cut never leaves a tool result without its call or a call without its results (providers answer 400).
 */

export const HISTORY_TOKEN_BUDGET = 12_000
/** Messages read per turn for the window; more only when these all fit and older ones exist. */
export const RECENT_ROWS = 200
/** The model is told a result was lost rather than being sent a call without an answer. */
export const MISSING_RESULT = '[no result: the run ended before this tool call finished]'

type Row = WindowRow

export interface Windowed { system: string[]; messages: ChatMessage[]; dropped: number }

const size = (m: ChatMessage) => m.content.length + (m.role === 'assistant' && m.toolCalls ? JSON.stringify(m.toolCalls).length : 0) + 8

/** Groups rows into units (system messages apart), repairing incomplete tool exchanges. */
export function units(rows: Row[]): { system: string[]; units: ChatMessage[][] } {
  const system: string[] = []
  const out: ChatMessage[][] = []
  let open: { unit: ChatMessage[]; pending: Map<string, ToolCall> } | null = null
  const close = () => {
    if (!open) return
    for (const c of open.pending.values()) open.unit.push({ role: 'tool', toolCallId: c.id, name: c.name, content: MISSING_RESULT, isError: true })
    out.push(open.unit)
    open = null
  }
  for (const r of rows) {
    if (r.role === 'tool') {
      const call = r.tool_call_id ? open?.pending.get(r.tool_call_id) : undefined
      if (!open || !call) continue // an orphan result (its call was never saved): never sent
      open.pending.delete(call.id)
      open.unit.push({ role: 'tool', toolCallId: call.id, name: r.tool_name ?? call.name, content: r.content, ...(r.is_error ? { isError: true } : {}) })
      continue
    }
    close()
    if (r.role === 'system') system.push(r.content)
    else if (r.role === 'user') out.push([{ role: 'user', content: r.content }])
    else if (r.tool_calls) {
      const calls = JSON.parse(r.tool_calls) as ToolCall[]
      open = { unit: [{ role: 'assistant', content: r.content, toolCalls: calls }], pending: new Map(calls.map((c) => [c.id, c])) }
    } else if (r.status === 'completed' && r.content) out.push([{ role: 'assistant', content: r.content }])
  }
  close()
  return { system, units: out }
}

/** The newest whole units within `budget` tokens, starting at a user message. */
export function windowHistory(rows: Row[], budget = HISTORY_TOKEN_BUDGET): Windowed {
  const { system, units: all } = units(rows)
  let used = 0
  let first = all.length
  for (let i = all.length - 1; i >= 0; i--) {
    const cost = estimateTokens(all[i].reduce((n, m) => n + size(m), 0))
    if (used + cost > budget) break
    used += cost
    first = i
  }
  // A window must open with a user message (Anthropic requires it; all providers expect it).
  while (first < all.length && all[first][0].role !== 'user') first++
  const kept = all.slice(first)
  return { system, messages: kept.flat(), dropped: all.slice(0, first).reduce((n, u) => n + u.length, 0) }
}

export interface HistorySource { system(): Row[]; recent(limit: number): Row[] }

/**
 * The window without reading the whole conversation: system messages, then the newest RECENT_ROWS others, twice
 * as many each time those all fit in the budget and older messages exist. The first rows read may be results
 * whose call is older: units() drops them, and the window never starts there anyway.
 */
export function loadWindow(src: HistorySource, budget = HISTORY_TOKEN_BUDGET): Windowed & { rows: Row[] } {
  const system = src.system()
  for (let limit = RECENT_ROWS; ; limit *= 2) {
    const rows = src.recent(limit)
    const w = windowHistory([...system, ...rows], budget)
    if (rows.length < limit || w.dropped > 0) return { ...w, rows }
  }
}
