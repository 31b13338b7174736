import { createHmac } from 'node:crypto'
import { safeEqual } from '../../src/auth/keys'
import { callApi, PlatformError, retryAfterMs } from './api'
import { cfgStr, type Channel, type InboundMessage } from './types'

/** Slack accepts up to 40,000 characters but truncates beyond; 4,000 keeps messages readable. */
export const SLACK_MAX_TEXT = 4000
export const SLACK_REPLAY_WINDOW_S = 300

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the signing secret. */
export const slackSignature = (secret: string, timestamp: string, raw: string) =>
  'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${raw}`, 'utf8').digest('hex')

/** Verifies signature and freshness (300 s either way of `nowMs`). */
export function verifySlack(secret: string, signature: string | null, timestamp: string | null, raw: string, nowMs: number): boolean {
  if (!secret || !signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > SLACK_REPLAY_WINDOW_S) return false
  return safeEqual(signature, slackSignature(secret, timestamp, raw))
}

// Message subtypes that are a person writing; everything else (edits, joins, bot_message...) is ignored.
const HUMAN_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast'])

async function call(k: { config: { platformApis: { slack: string } } }, token: string, method: string, body: Record<string, unknown>) {
  const r = await callApi('Slack', `${k.config.platformApis.slack}/${method}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body })
  if (r.json?.ok === true) return r.json
  throw new PlatformError('Slack', r.status >= 300 ? r.status : 400, `${method}: ${r.json?.error ?? `HTTP ${r.status}`}`, retryAfterMs(r.retryAfter))
}

export const slack: Channel = {
  platform: 'slack',

  validateConfig(cfg) {
    const problems: Record<string, string> = {}
    if (!cfgStr(cfg, 'bot_token')) problems['platform_config.bot_token'] = 'is required for slack (OAuth & Permissions > Bot User OAuth Token, xoxb-...)'
    if (!cfgStr(cfg, 'signing_secret')) problems['platform_config.signing_secret'] = 'is required for slack (Basic Information > Signing Secret)'
    return problems
  },

  verify(k, bot, d) {
    return verifySlack(cfgStr(bot.platform_config, 'signing_secret'), d.headers.get('x-slack-signature'), d.headers.get('x-slack-request-timestamp'), d.raw, k.clock.now())
  },

  parse(_k, bot, d) {
    const b = d.body as any
    if (!b || typeof b !== 'object') return { kind: 'respond', status: 400, body: { error: 'Not a Slack event payload', code: 'invalid_payload' } }
    if (b.type === 'url_verification') return { kind: 'respond', body: { challenge: String(b.challenge ?? '') } }
    if (b.type !== 'event_callback' || !b.event) return { kind: 'messages', messages: [] }
    const e = b.event
    if (e.type !== 'message' && e.type !== 'app_mention') return { kind: 'messages', messages: [] }
    const ownUser = cfgStr(bot.platform_config, 'bot_user_id')
    if (e.bot_id || e.subtype === 'bot_message' || !HUMAN_SUBTYPES.has(e.subtype) || !e.user || (ownUser && e.user === ownUser)) return { kind: 'messages', messages: [] }
    // An app_mention starts with the bot's own <@U...> mention: the model gets the words after it.
    const text = typeof e.text === 'string' ? (e.type === 'app_mention' ? e.text.replace(/^\s*<@[A-Z0-9]+>\s*/, '') : e.text) : ''
    if (text.trim() === '' || !e.channel || !e.ts) return { kind: 'messages', messages: [] }
    const msg: InboundMessage = {
      // A message seen as both `message` and `app_mention`, or retried (X-Slack-Retry-Num), has one
      // channel+ts; the event_id is kept for the record.
      dedupeKey: `message:${e.channel}:${e.ts}`,
      chatId: String(e.channel),
      userId: String(e.user),
      userName: typeof e.user_profile?.display_name === 'string' && e.user_profile.display_name ? e.user_profile.display_name : undefined,
      text,
      platformMessageId: typeof b.event_id === 'string' ? b.event_id : String(e.ts),
      reply: { channel: e.channel, thread_ts: e.thread_ts ?? e.ts },
    }
    return { kind: 'messages', messages: [msg] }
  },

  ack: () => ({ ok: true }),

  maxText: SLACK_MAX_TEXT,

  async send(k, bot, msg, text) {
    const r = await call(k, cfgStr(bot.platform_config, 'bot_token'), 'chat.postMessage', { channel: msg.reply.channel, text, thread_ts: msg.reply.thread_ts })
    return typeof r?.ts === 'string' ? r.ts : null
  },

  /** Our answers go into the message's thread: a bot message there with this text, since `sinceMs`, was ours. */
  async findSent(k, bot, msg, text, sinceMs) {
    const since = Math.floor(sinceMs / 1000) - 1 // whole seconds, a second early: clocks and ts rounding never hide it
    const q = new URLSearchParams({ channel: String(msg.reply.channel), ts: String(msg.reply.thread_ts), oldest: String(since), limit: '200' })
    try {
      const r = await callApi('Slack', `${k.config.platformApis.slack}/conversations.replies?${q}`, { method: 'GET', headers: { authorization: `Bearer ${cfgStr(bot.platform_config, 'bot_token')}` } })
      if (r.json?.ok !== true || !Array.isArray(r.json.messages)) return null // e.g. the app lacks the history scope
      const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
      const hit = r.json.messages.find((m: any) => m?.bot_id && typeof m.text === 'string' && unescape(m.text) === text && Number(m.ts) >= since)
      return hit ? String(hit.ts) : false
    } catch {
      return null
    }
  },

  async register(k, bot, webhookUrl) {
    const warnings = [`Set the Request URL under "Event Subscriptions" of your Slack app to ${webhookUrl} and subscribe to the bot events message.im and app_mention (message.channels for every channel message).`]
    try {
      await call(k, cfgStr(bot.platform_config, 'bot_token'), 'auth.test', {})
    } catch (err) {
      warnings.push(`Slack did not accept the bot token (${(err as Error).message}); replies will fail until platform_config.bot_token is fixed.`)
    }
    return { warnings, manual_setup_required: true }
  },

  async unregister() {
    // The Request URL lives in the Slack app settings; a paused bot answers 404 to deliveries.
  },
}
