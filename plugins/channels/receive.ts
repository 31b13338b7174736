import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { rawBody } from '../../src/http/body'
import { toCents } from '../wallet/service'
import { handleIncoming } from '../bots/service'
import { cachedBot } from './bot-cache'
import { channels } from './service'
import { whatsappChallenge } from './whatsapp'
import { runtimeOf } from './worker'
import { cfgStr, type Delivery, type Platform } from './types'

export interface Answer { status: number; body: unknown }

/** Deliveries waiting in memory beyond which new ones are refused with 503 (platforms retry later). */
export const MAX_QUEUED = 100_000

/** The active bot of this platform, or 404 (unknown, another platform's, draft and paused look the same). */
function activeBot(k: Kernel, platform: Platform, botId: string) {
  const bot = cachedBot(k, botId)
  if (!bot || bot.platform !== platform || bot.status !== 'active') throw new ApiError(404, 'Bot not found or not active', 'not_found')
  return bot
}

/**
 * One platform delivery: find the active bot, verify (401 without any write), parse, then either answer
 * at once (PING, url_verification), or commit the messages to the inbox (group commit) and acknowledge.
 * The custom channel answers synchronously instead.
 */
export async function receive(k: Kernel, platform: Platform, botId: string, request: Request, body: unknown, query: Record<string, string | undefined>): Promise<Answer> {
  const bot = activeBot(k, platform, botId)
  const channel = channels[platform]
  const d: Delivery = { raw: rawBody(request), body, headers: request.headers, query }
  if (!(await channel.verify(k, bot, d))) throw new ApiError(401, `Invalid ${platform} webhook signature`, 'invalid_signature')
  const parsed = channel.parse(k, bot, d)
  if (parsed.kind === 'respond') return { status: parsed.status ?? 200, body: parsed.body }
  if (platform === 'custom') return answerCustom(k, bot.id, parsed.messages[0])
  if (parsed.messages.length > 0) {
    const rt = runtimeOf(k)
    if (rt.lanes.size >= MAX_QUEUED) throw new ApiError(503, 'Too many messages waiting to be answered; retry later', 'inbox_full', undefined, { 'retry-after': '10' })
    await rt.enqueue(parsed.messages.map((message) => ({ botId: bot.id, platform, message })))
  }
  return { status: 200, body: channel.ack(parsed.messages) }
}

/** The custom channel: run the bot in the conversation's lane and answer in the reference's shape. */
async function answerCustom(k: Kernel, botId: string, msg: { chatId: string; userId: string; userName?: string; text: string }): Promise<Answer> {
  const started = performance.now()
  const res = await runtimeOf(k).runInLane(botId, msg.chatId, () =>
    handleIncoming(k, botId, { chatId: msg.chatId, userId: msg.userId, userName: msg.userName, text: msg.text }))
  const usage = res.result?.usage
  return {
    status: 200,
    body: {
      response: res.replies.join('\n\n'),
      tool_calls: res.result?.tool_calls ?? [],
      tokens: { input: usage?.tokens_input ?? 0, output: usage?.tokens_output ?? 0 },
      cost_cents: toCents(usage?.cost_micro ?? 0),
      latency_ms: usage?.latency_ms ?? Math.round(performance.now() - started),
      conversation_id: res.conversationId,
    },
  }
}

/** WhatsApp's GET verification handshake: echo hub.challenge as text when mode and token match, else 403. */
export function whatsappHandshake(k: Kernel, botId: string, query: Record<string, string | undefined>): string {
  const bot = activeBot(k, 'whatsapp', botId)
  const challenge = whatsappChallenge(cfgStr(bot.platform_config, 'verify_token'), query)
  if (challenge === null) throw new ApiError(403, 'Verification failed: hub.mode must be "subscribe" and hub.verify_token must match', 'verification_failed')
  return challenge
}
