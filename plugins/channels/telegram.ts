import { createHmac } from 'node:crypto'
import type { Kernel } from '../../src/kernel'
import { safeEqual } from '../../src/auth/keys'
import { callApi, PlatformError, retryAfterMs } from './api'
import { cfgStr, type Channel, type ChannelBot } from './types'

export const TELEGRAM_MAX_TEXT = 4096
const SECRET_RE = /^[A-Za-z0-9_-]{1,256}$/

/**
 * The secret_token given to setWebhook: the bot's own `secret_token` when configured, else one derived
 * from the master key and the bot id (stable across restarts, never stored, different per bot).
 */
export function telegramSecret(k: Kernel, bot: ChannelBot): string {
  const own = cfgStr(bot.platform_config, 'secret_token')
  if (own) return own
  return createHmac('sha256', k.jwtSecret).update(`telegram-webhook-secret:${bot.id}`).digest('base64url')
}

async function call(k: Kernel, token: string, method: string, body?: Record<string, unknown>) {
  const r = await callApi('Telegram', `${k.config.platformApis.telegram}/bot${token}/${method}`, { method: 'POST', body: body ?? {} })
  if (r.json?.ok === true) return r.json.result
  const desc = typeof r.json?.description === 'string' ? r.json.description : `HTTP ${r.status}`
  throw new PlatformError('Telegram', r.status >= 400 ? r.status : 502, `${method}: ${desc}`, retryAfterMs(r.json?.parameters?.retry_after))
}

export const telegram: Channel = {
  platform: 'telegram',
  typingEveryMs: 4500,

  validateConfig(cfg) {
    const problems: Record<string, string> = {}
    const token = cfgStr(cfg, 'bot_token')
    if (!token) problems['platform_config.bot_token'] = 'is required for telegram (the token from @BotFather)'
    else if (!/^\d+:[A-Za-z0-9_-]+$/.test(token)) problems['platform_config.bot_token'] = 'must look like 123456:ABC-DEF... (from @BotFather)'
    const secret = cfg.secret_token
    if (secret !== undefined && secret !== null && (typeof secret !== 'string' || !SECRET_RE.test(secret))) {
      problems['platform_config.secret_token'] = 'must be 1-256 characters of A-Z, a-z, 0-9, _ and -'
    }
    return problems
  },

  verify(k, bot, d) {
    const given = d.headers.get('x-telegram-bot-api-secret-token')
    return given !== null && safeEqual(given, telegramSecret(k, bot))
  },

  parse(_k, _bot, d) {
    const u = d.body as any
    if (!u || typeof u !== 'object' || !Number.isSafeInteger(u.update_id)) return { kind: 'respond', status: 400, body: { error: 'Not a Telegram update (update_id missing)', code: 'invalid_update' } }
    const m = u.message ?? u.business_message
    if (!m || typeof m.text !== 'string' || !m.chat || m.text.trim() === '') return { kind: 'messages', messages: [] } // edits, stickers, joins: nothing to answer
    if (m.from?.is_bot) return { kind: 'messages', messages: [] }
    const from = m.from ?? {}
    const name = from.username ?? [from.first_name, from.last_name].filter(Boolean).join(' ')
    return {
      kind: 'messages',
      messages: [{
        dedupeKey: `update:${u.update_id}`,
        chatId: String(m.chat.id),
        userId: String(from.id ?? m.chat.id),
        userName: name || undefined,
        // "/start" and "/start@MyBot payload" arrive as typed; the engine sees the command text.
        text: m.text,
        platformMessageId: String(m.message_id),
        reply: { chat_id: m.chat.id, message_id: m.message_id, ...(m.message_thread_id ? { message_thread_id: m.message_thread_id } : {}) },
      }],
    }
  },

  ack: () => ({ ok: true }),

  maxText: TELEGRAM_MAX_TEXT,

  async send(k, bot, msg, text, first) {
    const sent = await call(k, cfgStr(bot.platform_config, 'bot_token'), 'sendMessage', {
      chat_id: msg.reply.chat_id,
      text,
      ...(msg.reply.message_thread_id ? { message_thread_id: msg.reply.message_thread_id } : {}),
      ...(first && msg.reply.message_id ? { reply_parameters: { message_id: msg.reply.message_id, allow_sending_without_reply: true } } : {}),
    })
    return sent?.message_id != null ? String(sent.message_id) : null
  },

  async typing(k, bot, msg) {
    await call(k, cfgStr(bot.platform_config, 'bot_token'), 'sendChatAction', {
      chat_id: msg.reply.chat_id, action: 'typing',
      ...(msg.reply.message_thread_id ? { message_thread_id: msg.reply.message_thread_id } : {}),
    })
  },

  async register(k, bot, webhookUrl) {
    const token = cfgStr(bot.platform_config, 'bot_token')
    const warnings: string[] = []
    try {
      const info = await call(k, token, 'getWebhookInfo')
      if (typeof info?.url === 'string' && info.url !== '' && info.url !== webhookUrl) {
        warnings.push(`This Telegram bot was delivering to another webhook (${info.url}); it now delivers here only. Another service using the same bot token stops receiving messages.`)
      }
    } catch (err) {
      if (err instanceof PlatformError && (err.status === 401 || err.status === 404)) throw new PlatformError('Telegram', err.status, 'the bot token was refused (check platform_config.bot_token)').toApiError()
      throw err instanceof PlatformError ? err.toApiError() : err
    }
    if (!webhookUrl.startsWith('https://')) warnings.push(`Telegram only delivers to HTTPS webhooks; ${webhookUrl} is not HTTPS (set AGENTBASE_PUBLIC_URL to your public https:// address).`)
    try {
      await call(k, token, 'setWebhook', { url: webhookUrl, secret_token: telegramSecret(k, bot), allowed_updates: ['message'], max_connections: 40 })
    } catch (err) {
      throw err instanceof PlatformError ? err.toApiError() : err
    }
    return { warnings, manual_setup_required: false }
  },

  async unregister(k, bot) {
    await call(k, cfgStr(bot.platform_config, 'bot_token'), 'deleteWebhook', { drop_pending_updates: false })
  },
}

