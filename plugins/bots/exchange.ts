/**
 * Recording one answered message: the conversation (new or continued), the user message, the welcome, the
 * answer or fallback, the bot's events, its cost and quota use. Runs inside ONE transaction: the run's final
 * transaction (k.runs onFinish, together with the run row and the wallet debit), or the bots' own commit when
 * no run happened (a gate refused it). Events carry keys derived from the message, so a retried message
 * can never publish them twice (webhook receivers see one id per message and event).
 */
import type { Kernel } from '../../src/kernel'
import { iso } from '../../src/clock'
import { newId } from '../../src/db/ids'
import type { RunResult } from '../../src/agent/types'
import { toCents } from '../wallet/service'
import { botStore, conversationStore, messageStore, type ConversationRow, type MessageRow } from './store'
import type { BotRecord } from './record'

/** /v1 messages reach a bot on chat ids `v1:<channel>:<sender>`; everything else came from its platform. */
const channelOf = (platform: string, chatId: string) => (chatId.startsWith('v1:') ? chatId.split(':')[1] || 'api' : platform)

export interface Exchange {
  bot: BotRecord
  conv: ConversationRow | null
  expired: ConversationRow | null
  conversationId: string
  chatId: string
  userId: string
  userName: string | null
  text: string
  platformMessageId: string | null
  source: 'platform' | 'test'
  welcome: string | null
  userMessageId: string
  assistantMessageId: string
  /** Identifies this message across retries (the inbox item); events published under it are published once. */
  eventKey: string
  startedAt: number
}

export interface Answer { text: string; result?: RunResult; error: { message: string; code: string; status: number } | null; runId: string | null }

/** The clock's UTC month, YYYY-MM (plan_quota counts per calendar month). */
export const monthOf = (ms: number) => iso(ms).slice(0, 7)

/** Tool-call rounds of a run: assistant turns that asked for tools. */
export const loopIterations = (r: RunResult | undefined) =>
  r ? r.messages.filter((m) => m.role === 'assistant' && (m.toolCalls?.length ?? 0) > 0).length : 0

/** Writes the exchange; call inside a transaction. The wallet debit belongs to the run (k.runs), not here. */
export function recordExchange(k: Kernel, x: Exchange, a: Answer) {
  const { bot } = x
  const now = iso(k.clock.now())
  const convs = conversationStore(k.db)
  const msgs = messageStore(k.db)
  const usage = a.result?.usage
  const micro = usage?.cost_micro ?? 0
  const tokensIn = usage?.tokens_input ?? 0, tokensOut = usage?.tokens_output ?? 0
  const owner = { ownerId: bot.owner_id }
  const key = (type: string) => ({ ...owner, key: `${x.eventKey}:${type}` })
  if (!x.conv) {
    if (x.expired) convs.expire(x.expired.id)
    convs.insert({
      id: x.conversationId, bot_id: bot.id, platform_chat_id: x.chatId, platform_user_id: x.userId, platform_user_name: x.userName,
      source: x.source, status: 'active', message_count: 0, tokens_input: 0, tokens_output: 0, total_cost_micro: 0, started_at: now, last_message_at: now,
    })
    k.events.publish('bot.conversation.started', {
      bot_id: bot.id, conversation_id: x.conversationId, platform: bot.platform, platform_chat_id: x.chatId, platform_user_id: x.userId,
      previous_conversation_id: x.expired?.id ?? null,
    }, key('bot.conversation.started'))
  }
  let seq = x.conv ? msgs.nextSeq(x.conversationId) : 1
  const base = {
    conversation_id: x.conversationId, bot_id: bot.id, reply_to: null, platform_message_id: null, tool_calls: null, tool_count: 0, tokens_input: 0, tokens_output: 0,
    cost_micro: 0, latency_ms: null, loop_iterations: null, error: null, stop_reason: null, billing_mode: null, created_at: now,
  } satisfies Partial<MessageRow>
  msgs.insert({ ...base, id: x.userMessageId, seq: seq++, role: 'user', kind: 'message', content: x.text, platform_message_id: x.platformMessageId })
  k.events.publish('bot.message.received', {
    bot_id: bot.id, conversation_id: x.conversationId, message_id: x.userMessageId, platform: bot.platform,
    platform_chat_id: x.chatId, platform_user_id: x.userId, user_name: x.userName, text: x.text,
  }, key('bot.message.received'))
  k.events.publish('agent.message.received', {
    agent_id: bot.id, message_id: x.userMessageId, channel: channelOf(bot.platform, x.chatId), content: x.text, conversation_id: x.conversationId,
  }, key('agent.message.received'))
  if (x.welcome) msgs.insert({ ...base, id: newId('bmsg'), seq: seq++, role: 'assistant', kind: 'welcome', content: x.welcome, reply_to: x.userMessageId })
  const e = a.error
  msgs.insert({
    ...base, id: x.assistantMessageId, seq: seq++, role: 'assistant', kind: e ? 'fallback' : 'message', content: a.text, reply_to: x.userMessageId,
    tool_calls: JSON.stringify(a.result?.tool_calls ?? []), tool_count: a.result?.tool_calls.length ?? 0, tokens_input: tokensIn, tokens_output: tokensOut, cost_micro: micro,
    latency_ms: usage?.latency_ms ?? k.clock.now() - x.startedAt, loop_iterations: loopIterations(a.result),
    error: e?.message ?? null, stop_reason: e ? e.code : (a.result?.stop_reason ?? null), billing_mode: bot.billing_mode,
  })
  k.events.publish('bot.message.sent', {
    bot_id: bot.id, conversation_id: x.conversationId, message_id: x.assistantMessageId, reply_to: x.userMessageId, platform: bot.platform,
    platform_chat_id: x.chatId, text: a.text, failed: !!e, error: e?.message ?? null, run_id: a.runId,
    tool_calls: a.result?.tool_calls ?? [], tokens: { input: tokensIn, output: tokensOut }, cost_cents: toCents(micro),
  }, key('bot.message.sent'))
  k.events.publish('agent.message.sent', {
    agent_id: bot.id, message_id: x.assistantMessageId, reply_to: x.userMessageId, channel: channelOf(bot.platform, x.chatId), content: a.text,
    conversation_id: x.conversationId, failed: !!e, run_id: a.runId,
  }, key('agent.message.sent'))
  convs.addActivity(x.conversationId, { messages: x.welcome ? 3 : 2, tokensIn, tokensOut, micro, at: now, userName: x.userName })
  botStore(k.db).addCost(bot.id, micro, now)
  if (bot.billing_mode === 'plan_quota' && tokensIn + tokensOut > 0) msgs.addQuotaUsage(bot.owner_id, monthOf(k.clock.now()), tokensIn + tokensOut)
}
