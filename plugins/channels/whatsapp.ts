import { createHmac } from 'node:crypto'
import { safeEqual } from '../../src/auth/keys'
import { callApi, PlatformError, retryAfterMs } from './api'
import { cfgStr, type Channel, type InboundMessage } from './types'

export const WHATSAPP_MAX_TEXT = 4096

/** `sha256=` + hex HMAC-SHA256 of the raw body with the app secret (Meta's X-Hub-Signature-256). */
export const whatsappSignature = (appSecret: string, raw: string) => 'sha256=' + createHmac('sha256', appSecret).update(raw, 'utf8').digest('hex')

/** The GET handshake: the challenge to echo, or null (403) when mode or token don't match. */
export function whatsappChallenge(verifyToken: string, query: Record<string, string | undefined>): string | null {
  const mode = query['hub.mode'], token = query['hub.verify_token'], challenge = query['hub.challenge']
  if (mode !== 'subscribe' || !token || !verifyToken || challenge === undefined) return null
  return safeEqual(token, verifyToken) ? challenge : null
}

export const whatsapp: Channel = {
  platform: 'whatsapp',

  validateConfig(cfg) {
    const problems: Record<string, string> = {}
    for (const [f, hint] of [
      ['access_token', 'a permanent system-user access token'],
      ['phone_number_id', 'the phone number id from WhatsApp > API Setup'],
      ['app_secret', 'App settings > Basic > App secret'],
      ['verify_token', 'any string you also enter as "Verify token" in the webhook settings'],
    ] as const) {
      if (!cfgStr(cfg, f)) problems[`platform_config.${f}`] = `is required for whatsapp (${hint})`
    }
    if (cfgStr(cfg, 'phone_number_id') && !/^\d{1,30}$/.test(cfgStr(cfg, 'phone_number_id'))) problems['platform_config.phone_number_id'] = 'must be the numeric phone number id'
    return problems
  },

  verify(_k, bot, d) {
    const given = d.headers.get('x-hub-signature-256')
    const secret = cfgStr(bot.platform_config, 'app_secret')
    return !!given && !!secret && safeEqual(given.toLowerCase(), whatsappSignature(secret, d.raw))
  },

  parse(_k, bot, d) {
    const b = d.body as any
    if (!b || typeof b !== 'object' || !Array.isArray(b.entry)) return { kind: 'respond', status: 400, body: { error: 'Not a WhatsApp webhook payload (entry missing)', code: 'invalid_payload' } }
    const own = cfgStr(bot.platform_config, 'phone_number_id')
    const messages: InboundMessage[] = []
    for (const entry of b.entry) {
      for (const change of entry?.changes ?? []) {
        const v = change?.value
        if (change?.field !== 'messages' || !v || !Array.isArray(v.messages)) continue // statuses, templates: ignored
        const phoneId = String(v.metadata?.phone_number_id ?? own)
        if (own && phoneId !== own) continue // another number of the same app
        const names = new Map<string, string>((v.contacts ?? []).map((c: any) => [String(c.wa_id), c.profile?.name]))
        for (const m of v.messages) {
          if (m?.type !== 'text' || typeof m.text?.body !== 'string' || typeof m.id !== 'string' || !m.from) continue
          messages.push({
            dedupeKey: `message:${m.id}`,
            chatId: String(m.from),
            userId: String(m.from),
            userName: names.get(String(m.from)) || undefined,
            text: m.text.body,
            platformMessageId: m.id,
            reply: { phone_number_id: phoneId, to: String(m.from), message_id: m.id },
          })
        }
      }
    }
    return { kind: 'messages', messages }
  },

  ack: () => ({ ok: true }),

  maxText: WHATSAPP_MAX_TEXT,

  async send(k, bot, msg, text) {
    const url = `${k.config.platformApis.whatsapp}/${msg.reply.phone_number_id}/messages`
    const headers = { authorization: `Bearer ${cfgStr(bot.platform_config, 'access_token')}` }
    const r = await callApi('WhatsApp', url, { method: 'POST', headers, body: { messaging_product: 'whatsapp', recipient_type: 'individual', to: msg.reply.to, type: 'text', text: { preview_url: false, body: text } } })
    if (r.status >= 300) throw new PlatformError('WhatsApp', r.status, `send message: ${r.json?.error?.message ?? `HTTP ${r.status}`}`, retryAfterMs(r.retryAfter))
    const id = r.json?.messages?.[0]?.id
    return id != null ? String(id) : null
  },

  /** Marks the message read and shows the typing indicator (Cloud API, up to 25 s or until we answer). */
  async typing(k, bot, msg) {
    await callApi('WhatsApp', `${k.config.platformApis.whatsapp}/${msg.reply.phone_number_id}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cfgStr(bot.platform_config, 'access_token')}` },
      body: { messaging_product: 'whatsapp', status: 'read', message_id: msg.reply.message_id, typing_indicator: { type: 'text' } },
    })
  },
  typingEveryMs: 20_000,

  async register(k, bot, webhookUrl) {
    // The callback URL is set by hand in the Meta app dashboard; we check the credentials we were given.
    const id = cfgStr(bot.platform_config, 'phone_number_id')
    const warnings = [`Set the callback URL of your Meta app's WhatsApp webhook to ${webhookUrl} with the verify token from platform_config, and subscribe to the "messages" field.`]
    const r = await callApi('WhatsApp', `${k.config.platformApis.whatsapp}/${id}?fields=id,display_phone_number,verified_name`, {
      headers: { authorization: `Bearer ${cfgStr(bot.platform_config, 'access_token')}` },
    }).catch((err: PlatformError) => ({ status: err.status, json: null }))
    if (r.status >= 300 || r.status === 0) warnings.push(`WhatsApp did not accept the access token for phone number ${id} (${r.json?.error?.message ?? `HTTP ${r.status}`}); replies will fail until platform_config is fixed.`)
    return { warnings, manual_setup_required: true }
  },

  async unregister() {
    // Nothing to call: the webhook lives in the Meta dashboard; a paused bot answers 404 to deliveries.
  },
}
