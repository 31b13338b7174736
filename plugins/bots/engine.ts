/**
 * The bot engine: one incoming message in, the bot's replies out, everything recorded.
 * Called by the channels plugin (platform webhooks, after verification and the durable inbox) and by
 * `POST /api/bots/:id/test`. No platform knowledge here.
 */
import { perKernel, type Kernel } from '../../src/kernel'
import { ApiError, badRequest, notFound } from '../../src/http/errors'
import { newId } from '../../src/db/ids'
import type { AgentSpec, ChatMessage, ProviderName, RunResult } from '../../src/agent/types'
import { workspaceToolSet } from '../../src/tools/workspace-tools'
import { parseAllowList, restrictTools } from '../../src/tools/allow-list'
import { GroupCommit } from '../../src/db/group-commit'
import type { RunRequest } from '../../src/runs/types'
import { monthlyTokenQuota } from '../auth/service'
import { botStore, conversationStore, messageStore, type ConversationRow } from './store'
import { loadBot, type BotRecord } from './record'
import { monthOf, recordExchange, type Answer, type Exchange } from './exchange'
import { answerWithWorkflow } from '../workflows/service'

export { loopIterations } from './exchange'

/** Answers that ran no model (a gate refused them) share one commit; each resolves after it. */
const groupCommit = perKernel((k) => new GroupCommit(k.db))

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
  /**
   * Identifies this message across retries (the channels inbox item): the bot's events for it are published
   * once, under ids derived from it. Default: a fresh id (nothing to deduplicate against).
   */
  idempotencyKey?: string
  /** Runs inside the transaction that records the answer (the channels inbox stores the reply to send with it). */
  onRecorded?: (r: IncomingResult) => void
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

/** The bot's own reasons not to run the model (wallet and spending cap are the run service's billing). */
function gate(k: Kernel, bot: BotRecord): { message: string; code: string; status: number } | null {
  if (bot.billing_mode === 'byok' && !bot.llm_api_key) {
    return { message: 'billing_mode is "byok" but the bot has no llm_api_key: set one, or switch billing_mode to "wallet"', code: 'missing_key', status: 400 }
  }
  if (bot.billing_mode === 'plan_quota') {
    const quota = monthlyTokenQuota(k, bot.owner_id)
    if (quota !== null) {
      const used = messageStore(k.db).quotaUsed(bot.owner_id, monthOf(k.clock.now()))
      if (used >= quota) return { message: `Monthly token quota of ${quota} tokens used up (${used} used this month)`, code: 'quota_exceeded', status: 402 }
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

/** A failed run's reason as the bot records it. */
const failureOf = (e: { message: string; code: string; status: number }) =>
  ({ message: e.message, code: e.code === 'timeout' || e.status === 504 ? 'timeout' : e.code || 'run_failed', status: e.status })

/**
 * Answers one incoming platform message with the bot's agent and records it.
 *
 * - Loads the bot; it must be `active` (else ApiError 409 `bot_not_active`) unless `opts.source` is `test`.
 *   Unknown bot: ApiError 404. Empty text: ApiError 400.
 * - Finds the chat+user's conversation, or starts one (also after `conversation_ttl_hours` of silence;
 *   publishes `bot.conversation.started`). A user's very first message gets the `welcome_message` first.
 * - Gates: byok without key, plan quota used up (here); spending cap reached, empty wallet (billing on) in the
 *   run service's billing, which reserves the run's maximum cost so concurrent messages cannot overspend.
 *   The model is not called; the reply is the fallback and the reason is recorded.
 * - Runs the agent through k.runs (history bounded by `conversation_max_messages`, workspace tools, the bot's
 *   limits). A failed or timed-out run answers the fallback and records the failure.
 * - The run row, the wallet debit, run.completed / run.failed, the user and assistant messages, usage, cost and
 *   the events `bot.message.received` / `bot.message.sent` (and `opts.onRecorded`) commit in ONE transaction.
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

  const convs = conversationStore(k.db)
  const startedAt = k.clock.now()
  let conv = convs.current(bot.id, chatId, userId)
  let expired: ConversationRow | null = null
  if (conv && Date.parse(conv.last_message_at) + bot.conversation_ttl_hours * HOUR <= startedAt) { expired = conv; conv = null }
  const welcome = source === 'platform' && !conv && !expired && bot.welcome_message && !convs.userSeen(bot.id, userId) ? bot.welcome_message : null
  const x: Exchange = {
    bot, conv, expired, conversationId: conv?.id ?? newId('bconv'), chatId, userId, userName: msg.userName ?? null, text,
    platformMessageId: msg.platformMessageId ?? null, source, welcome, userMessageId: newId('bmsg'), assistantMessageId: newId('bmsg'),
    eventKey: opts.idempotencyKey ?? newId('bmsg'), startedAt,
  }
  const history = conv ? toHistory(messageStore(k.db).history(conv.id, bot.conversation_max_messages)) : []
  const fallback = bot.fallback_message || DEFAULT_FALLBACK
  const outcome = (a: Answer): IncomingResult => ({
    replies: welcome ? [welcome, a.text] : [a.text], conversationId: x.conversationId, result: a.result, failed: !!a.error,
    error: a.error ?? undefined, userMessageId: x.userMessageId, assistantMessageId: x.assistantMessageId,
  })
  const record = (a: Answer) => {
    if (opts.signal?.aborted) throw new ApiError(503, 'Cancelled before the answer was recorded', 'aborted')
    recordExchange(k, x, a)
    const r = outcome(a)
    opts.onRecorded?.(r)
    return r
  }

  const refused = gate(k, bot)
  if (refused) return groupCommit(k).run(() => record({ text: fallback, error: refused, runId: null }))
  if (bot.workflow_enabled) {
    // The bot's workflow answers (plugins/workflows/bots.ts); its failure answers the fallback message.
    const w = await answerWithWorkflow(k, bot, { text, chat_id: chatId, user_id: userId, user_name: x.userName, conversation_id: x.conversationId, platform: bot.platform })
    return groupCommit(k).run(() => record({ text: w.error ? fallback : w.text, error: w.error, runId: null }))
  }

  const req: RunRequest = {
    source: 'bot', sourceId: bot.id, ownerId: bot.owner_id, workspaceId: bot.workspace_id, spec: specFor(k, bot), input: { message: text, history },
    caller: userId, mode: source === 'test' ? 'test' : 'sync', refs: { bot_id: bot.id, conversation_id: x.conversationId },
    meta: { chat_id: chatId, message_key: x.eventKey },
    billing: {
      chargeLlm: bot.billing_mode === 'wallet', reason: 'bot', ref: { type: 'bot_message', id: x.assistantMessageId },
      cap: bot.spending_cap_micro === null ? undefined : { key: bot.id, limitMicro: bot.spending_cap_micro, spent: () => botStore(k.db).get(bot.id)?.total_cost_micro ?? 0 },
    },
  }
  let recorded: IncomingResult | null = null
  // The bot's own budget (+5 s for the model's last words) bounds the run even if the platform never hangs up.
  const signals = [AbortSignal.timeout(Math.min(bot.timeout_ms, 60_000) + 5_000), ...(opts.signal ? [opts.signal] : [])]
  try {
    await k.runs.execute({
      ...req,
      onFinish: (run, result) => {
        let error = run.error !== null ? failureOf({ message: run.error, code: run.error_code ?? 'run_failed', status: run.error_status ?? 500 }) : null
        if (!error && !result.text.trim() && !result.tool_calls.length) error = { message: 'The model returned an empty answer', code: 'empty_answer', status: 502 }
        recorded = record({ text: error ? fallback : result.text, result, error, runId: run.id })
      },
    }, { signal: AbortSignal.any(signals) })
  } catch (err) {
    if (opts.signal?.aborted) throw new ApiError(503, 'Cancelled before the answer was recorded', 'aborted')
    // Refused by billing (empty wallet, spending cap) before the model ran: recorded as a fallback, no run.
    if (err instanceof ApiError && err.status === 402) {
      const code = err.code === 'spending_cap' ? 'spending_cap' : 'wallet_empty'
      return groupCommit(k).run(() => record({ text: fallback, error: { message: err.message, code, status: 402 }, runId: null }))
    }
    throw err
  }
  return recorded!
}
