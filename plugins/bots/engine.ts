/**
 * The bot engine: one incoming message in, the bot's replies out, everything recorded.
 * Called by the channels plugin (platform webhooks, after verification and the durable inbox) and by
 * `POST /api/bots/:id/test`. No platform knowledge here.
 */
import type { Kernel } from '../../src/kernel'
import { ApiError, badRequest, notFound } from '../../src/http/errors'
import { newId } from '../../src/db/ids'
import { iso } from '../../src/clock'
import type { AgentSpec, ChatMessage, ProviderName, RunResult } from '../../src/agent/types'
import { collect, run } from '../../src/agent/run'
import { workspaceToolSet } from '../../src/tools/workspace-tools'
import { parseAllowList, restrictTools } from '../../src/tools/allow-list'
import * as wallet from '../wallet/service'
import { botStore, conversationStore, messageStore, type ConversationRow, type MessageRow } from './store'
import { loadBot, type BotRecord } from './record'
import { GroupCommit } from '../../src/db/group-commit'

/** Concurrent answers (different conversations) share one commit; each resolves after it. */
const groupCommit = (k: Kernel) => k.singleton('bots.group-commit', () => new GroupCommit(k.db))

export interface IncomingMessage {
  /** Platform chat/channel id (conversations are keyed by bot + chatId + userId). */
  chatId: string
  /** Platform user id. */
  userId: string
  userName?: string
  text: string
  /** The platform's id for this message (stored on the user message). */
  platformMessageId?: string
}

export interface IncomingOptions {
  /** Aborting cancels the run; nothing is recorded and the promise rejects (the inbox item stays pending). */
  signal?: AbortSignal
  /** `test`: POST /api/bots/:id/test — runs on draft/paused bots too and skips the welcome message. */
  source?: 'platform' | 'test'
}

export interface IncomingResult {
  /** What to send back, in order: the welcome message (first interaction), then the answer or the fallback. */
  replies: string[]
  conversationId: string
  /** The runtime's result when the model ran (also on failure, with partial usage). */
  result?: RunResult
  /** True when the answer is the fallback (run failed or timed out, spending cap, quota, wallet, missing key). */
  failed?: boolean
  /** Why it failed (recorded on the message as error / stop_reason). */
  error?: { message: string; code: string; status: number }
  userMessageId: string
  assistantMessageId: string
}

export const DEFAULT_FALLBACK = 'Sorry, I could not answer that right now. Please try again in a little while.'
export const MAX_INCOMING_CHARS = 32_000
const HOUR = 3600_000

/** The history the model sees: user/assistant turns, starting with a user turn. */
function toHistory(rows: { role: 'user' | 'assistant'; content: string }[]): ChatMessage[] {
  const first = rows.findIndex((r) => r.role === 'user')
  return first < 0 ? [] : rows.slice(first).map((r) => ({ role: r.role, content: r.content }))
}

/** The clock's UTC month, YYYY-MM (plan_quota counts per calendar month). */
const monthOf = (ms: number) => iso(ms).slice(0, 7)

/** A reason not to run the model at all (checked before spending anything). */
function gate(k: Kernel, bot: BotRecord): { message: string; code: string; status: number } | null {
  if (bot.spending_cap_micro !== null && bot.total_cost_micro >= bot.spending_cap_micro) {
    return { message: `Spending cap of ${wallet.toCents(bot.spending_cap_micro)} cents reached`, code: 'spending_cap', status: 402 }
  }
  if (bot.billing_mode === 'byok' && !bot.llm_api_key) {
    return { message: 'billing_mode is "byok" but the bot has no llm_api_key: set one, or switch billing_mode to "wallet"', code: 'missing_key', status: 400 }
  }
  if (bot.billing_mode === 'plan_quota') {
    const quota = k.db.query<{ q: number | null }, [string]>('SELECT monthly_token_quota AS q FROM users WHERE id = ?').get(bot.owner_id)?.q ?? null
    if (quota !== null) {
      const used = messageStore(k).quotaUsed(bot.owner_id, monthOf(k.clock.now()))
      if (used >= quota) return { message: `Monthly token quota of ${quota} tokens used up (${used} used this month)`, code: 'quota_exceeded', status: 402 }
    }
  }
  if (bot.billing_mode === 'wallet') {
    try { wallet.assertCanSpend(k, bot.owner_id) } catch (err) {
      if (err instanceof ApiError) return { message: err.message, code: 'wallet_empty', status: err.status }
      throw err
    }
  }
  return null
}

function specFor(k: Kernel, bot: BotRecord): AgentSpec {
  return {
    systemPrompt: bot.system_prompt,
    provider: bot.llm_provider as ProviderName,
    model: bot.llm_model,
    // wallet and plan_quota run on the platform key; byok on the bot's own key.
    apiKey: bot.billing_mode === 'byok' ? bot.llm_api_key : null,
    baseUrl: bot.llm_config.base_url ?? null,
    temperature: bot.llm_config.temperature,
    maxTokens: bot.max_tokens_per_turn,
    // max_loop_iterations counts tool-call rounds; the runtime counts model turns (rounds + the final answer).
    maxIterations: bot.max_loop_iterations + 1,
    maxToolCalls: Math.max(10, bot.max_loop_iterations * 3),
    timeoutMs: Math.min(bot.timeout_ms, 60_000),
    tools: restrictTools(workspaceToolSet(k, bot.owner_id, bot.workspace_id), parseAllowList(bot.tools)),
    ownerId: bot.owner_id,
    surface: 'bot',
  }
}

/** /v1 messages reach a bot on chat ids `v1:<channel>:<sender>`; everything else came from its platform. */
const channelOf = (platform: string, chatId: string) => (chatId.startsWith('v1:') ? chatId.split(':')[1] || 'api' : platform)

/** Tool-call rounds of a run: assistant turns that asked for tools. */
export const loopIterations = (r: RunResult | undefined) =>
  r ? r.messages.filter((m) => m.role === 'assistant' && (m.toolCalls?.length ?? 0) > 0).length : 0

/**
 * Answers one incoming platform message with the bot's agent and records it.
 *
 * - Loads the bot; it must be `active` (else ApiError 409 `bot_not_active`) unless `opts.source` is `test`.
 *   Unknown bot: ApiError 404. Empty text: ApiError 400.
 * - Finds the chat+user's conversation, or starts one (also after `conversation_ttl_hours` of silence;
 *   publishes `bot.conversation.started`). A user's very first message gets the `welcome_message` first.
 * - Gates: spending cap reached, byok without key, plan quota used up, empty wallet (billing on): the model
 *   is not called; the reply is the fallback and the reason is recorded.
 * - Runs the agent (history bounded by `conversation_max_messages`, workspace tools, the bot's limits).
 *   A failed or timed-out run answers the fallback and records the failure.
 * - Records the user and assistant messages, usage, cost, the wallet debit (billing_mode wallet) and the
 *   events `bot.message.received` / `bot.message.sent` in ONE transaction (a savepoint of a group commit
 *   shared with concurrent answers: one fsync for all; resolves after the commit).
 *
 * Safe to call concurrently for different conversations; callers serialize calls of one conversation
 * (the channels worker does). Never throws for model/tool failures (they become `failed: true`).
 * If `opts.signal` aborts, nothing is recorded and the promise rejects with ApiError 503 `aborted`.
 */
export async function handleIncoming(k: Kernel, botId: string, msg: IncomingMessage, opts: IncomingOptions = {}): Promise<IncomingResult> {
  const bot = loadBot(k, botId)
  if (!bot) throw notFound('Bot')
  const source = opts.source ?? 'platform'
  if (source !== 'test' && bot.status !== 'active') throw new ApiError(409, `Bot is ${bot.status}, not active`, 'bot_not_active')
  const text = (msg.text ?? '').slice(0, MAX_INCOMING_CHARS)
  if (!text.trim()) throw badRequest('Message text is empty', { text: 'must not be empty' })
  const chatId = String(msg.chatId), userId = String(msg.userId)

  const convs = conversationStore(k)
  const startedAt = k.clock.now()
  let conv = convs.current(bot.id, chatId, userId)
  let expired: ConversationRow | null = null
  if (conv && Date.parse(conv.last_message_at) + bot.conversation_ttl_hours * HOUR <= startedAt) { expired = conv; conv = null }
  const welcome = source === 'platform' && !conv && !expired && bot.welcome_message && !convs.userSeen(bot.id, userId) ? bot.welcome_message : null
  const conversationId = conv?.id ?? newId('bconv')
  const history = conv ? toHistory(messageStore(k).history(conv.id, bot.conversation_max_messages)) : []

  let result: RunResult | undefined
  let error = gate(k, bot)
  if (!error) {
    const signals = [AbortSignal.timeout(Math.min(bot.timeout_ms, 60_000) + 5_000), ...(opts.signal ? [opts.signal] : [])]
    const out = await collect(run(k, specFor(k, bot), { message: text, history }, {
      signal: AbortSignal.any(signals), started: { bot_id: bot.id, conversation_id: conversationId }, stream: false,
    }))
    if (opts.signal?.aborted) throw new ApiError(503, 'Cancelled before the answer was recorded', 'aborted')
    result = out.result
    if (!out.ok) error = { message: out.error, code: out.code === 'timeout' || out.status === 504 ? 'timeout' : out.code || 'run_failed', status: out.status }
    else if (!out.result.text.trim() && !out.result.tool_calls.length) error = { message: 'The model returned an empty answer', code: 'empty_answer', status: 502 }
  }

  const answer = error ? (bot.fallback_message || DEFAULT_FALLBACK) : result!.text
  const usage = result?.usage
  const micro = usage?.cost_micro ?? 0
  const tokensIn = usage?.tokens_input ?? 0, tokensOut = usage?.tokens_output ?? 0
  const userMessageId = newId('bmsg'), assistantMessageId = newId('bmsg')
  const owner = { ownerId: bot.owner_id }

  await groupCommit(k).run(() => {
    const now = iso(k.clock.now())
    const msgs = messageStore(k)
    if (!conv) {
      if (expired) convs.expire(expired.id)
      convs.insert({
        id: conversationId, bot_id: bot.id, platform_chat_id: chatId, platform_user_id: userId, platform_user_name: msg.userName ?? null,
        source, status: 'active', message_count: 0, tokens_input: 0, tokens_output: 0, total_cost_micro: 0, started_at: now, last_message_at: now,
      })
      k.events.publish('bot.conversation.started', {
        bot_id: bot.id, conversation_id: conversationId, platform: bot.platform, platform_chat_id: chatId, platform_user_id: userId,
        previous_conversation_id: expired?.id ?? null,
      }, owner)
    }
    let seq = conv ? msgs.nextSeq(conversationId) : 1
    const base = {
      conversation_id: conversationId, bot_id: bot.id, reply_to: null, platform_message_id: null, tool_calls: null, tool_count: 0, tokens_input: 0, tokens_output: 0,
      cost_micro: 0, latency_ms: null, loop_iterations: null, error: null, stop_reason: null, billing_mode: null, created_at: now,
    } satisfies Partial<MessageRow>
    msgs.insert({ ...base, id: userMessageId, seq: seq++, role: 'user', kind: 'message', content: text, platform_message_id: msg.platformMessageId ?? null })
    k.events.publish('bot.message.received', {
      bot_id: bot.id, conversation_id: conversationId, message_id: userMessageId, platform: bot.platform,
      platform_chat_id: chatId, platform_user_id: userId, user_name: msg.userName ?? null, text,
    }, owner)
    k.events.publish('agent.message.received', { agent_id: bot.id, message_id: userMessageId, channel: channelOf(bot.platform, chatId), content: text, conversation_id: conversationId }, owner)
    if (welcome) msgs.insert({ ...base, id: newId('bmsg'), seq: seq++, role: 'assistant', kind: 'welcome', content: welcome, reply_to: userMessageId })
    msgs.insert({
      ...base, id: assistantMessageId, seq: seq++, role: 'assistant', kind: error ? 'fallback' : 'message', content: answer, reply_to: userMessageId,
      tool_calls: JSON.stringify(result?.tool_calls ?? []), tool_count: result?.tool_calls.length ?? 0, tokens_input: tokensIn, tokens_output: tokensOut, cost_micro: micro,
      latency_ms: usage?.latency_ms ?? k.clock.now() - startedAt, loop_iterations: loopIterations(result),
      error: error?.message ?? null, stop_reason: error ? error.code : (result?.stop_reason ?? null), billing_mode: bot.billing_mode,
    })
    k.events.publish('bot.message.sent', {
      bot_id: bot.id, conversation_id: conversationId, message_id: assistantMessageId, reply_to: userMessageId, platform: bot.platform,
      platform_chat_id: chatId, text: answer, failed: !!error, error: error?.message ?? null,
      tool_calls: result?.tool_calls ?? [], tokens: { input: tokensIn, output: tokensOut }, cost_cents: wallet.toCents(micro),
    }, owner)
    k.events.publish('agent.message.sent', {
      agent_id: bot.id, message_id: assistantMessageId, reply_to: userMessageId, channel: channelOf(bot.platform, chatId), content: answer, conversation_id: conversationId, failed: !!error,
    }, owner)
    convs.addActivity(conversationId, { messages: welcome ? 3 : 2, tokensIn, tokensOut, micro, at: now, userName: msg.userName ?? null })
    botStore(k).addCost(bot.id, micro, now)
    if (bot.billing_mode === 'plan_quota' && tokensIn + tokensOut > 0) msgs.addQuotaUsage(bot.owner_id, monthOf(k.clock.now()), tokensIn + tokensOut)
    if (bot.billing_mode === 'wallet' && micro > 0) wallet.debit(k, bot.owner_id, micro, 'bot', { type: 'bot_message', id: assistantMessageId })
  })

  return {
    replies: welcome ? [welcome, answer] : [answer],
    conversationId, result, failed: !!error, error: error ?? undefined, userMessageId, assistantMessageId,
  }
}
