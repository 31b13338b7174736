/** Conversation and message views for the conversations routes. */
import type { Kernel } from '../../src/kernel'
import { notFound } from '../../src/http/errors'
import { toCents } from '../wallet/service'
import { conversationStore, messageStore, type ConversationRow, type MessageRow } from './store'

export const conversationView = (c: ConversationRow) => ({
  id: c.id, bot_id: c.bot_id, platform_chat_id: c.platform_chat_id, platform_user_id: c.platform_user_id,
  platform_user_name: c.platform_user_name, source: c.source, status: c.status, message_count: c.message_count,
  tokens_input: c.tokens_input, tokens_output: c.tokens_output, total_cost_cents: toCents(c.total_cost_micro),
  started_at: c.started_at, last_message_at: c.last_message_at,
})

export const messageView = (m: MessageRow) => ({
  id: m.id, role: m.role, kind: m.kind, content: m.content, tool_calls: m.tool_calls ? JSON.parse(m.tool_calls) : [],
  tokens_input: m.tokens_input, tokens_output: m.tokens_output, cost_cents: toCents(m.cost_micro), latency_ms: m.latency_ms,
  loop_iterations: m.loop_iterations, error: m.error, stop_reason: m.stop_reason, created_at: m.created_at,
})

export function listConversations(k: Kernel, botId: string, limit = 50, offset = 0) {
  const s = conversationStore(k.db)
  return { conversations: s.list(botId, limit, offset).map(conversationView), total: s.count(botId), limit, offset }
}

/** The conversation with its latest `limit` messages, oldest first. */
export function getConversation(k: Kernel, botId: string, convId: string, limit = 100) {
  const c = conversationStore(k.db).get(botId, convId)
  if (!c) throw notFound('Conversation')
  const msgs = messageStore(k.db)
  const messages = msgs.latest(c.id, limit)
  return { conversation: conversationView(c), messages: messages.map(messageView), has_more: msgs.count(c.id) > messages.length }
}
