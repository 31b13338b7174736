import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { enforceRate } from '../../src/http/rate-limit'
import { clientIp } from '../../src/http/client-ip'
import { receive, whatsappHandshake } from './receive'
import type { Platform } from './types'
import { BotIdParams, CustomAnswer, CustomMessage, ErrorBody, PlatformPayload, PlatformAck, WhatsAppQuery } from './model'

/** Requests per minute per client IP and bot on the custom channel (unverified, and it spends LLM money). */
export const CUSTOM_RPM = 120

const platformRoute = (platform: Exclude<Platform, 'custom'>, summary: string, description: string) => ({
  params: BotIdParams,
  body: PlatformPayload,
  // Platforms sign the raw bytes; some (Slack interactivity) send forms: read them all, verify, then parse.
  type: ['application/json', 'application/x-www-form-urlencoded', 'text/plain'] as ('application/json' | 'application/x-www-form-urlencoded' | 'text/plain')[],
  response: { 200: PlatformAck, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
  detail: { summary, description, security: [] as Record<string, string[]>[], tags: ['Bot webhooks'] },
  platform,
})

/**
 * Webhook receivers (no JWT; platform verification): verified deliveries are committed to the durable
 * inbox (group commit) and acknowledged; the `channels.inbox` worker answers them in order per chat.
 */
export const channelsPlugin = (k: Kernel) => {
  const app = new Elysia({ name: 'channels', seed: k.seed, prefix: '/api/bots/webhook', detail: { tags: ['Bot webhooks'] } })
  const routes = [
    platformRoute('telegram', 'Telegram webhook', 'Verified by X-Telegram-Bot-Api-Secret-Token (the secret given to setWebhook on activate). Text messages and /start are queued and answered with sendMessage; duplicates (same update_id) are answered once.'),
    platformRoute('discord', 'Discord interactions endpoint', 'Verified with Ed25519 (X-Signature-Ed25519 over X-Signature-Timestamp + body, application public key). PING answers {"type":1}; slash commands answer {"type":5} (deferred) and the answer follows through the interaction webhook.'),
    platformRoute('whatsapp', 'WhatsApp Cloud API webhook', 'Verified by X-Hub-Signature-256 (HMAC-SHA256 of the raw body with app_secret). Text messages are queued and answered through the messages API; status updates are ignored; duplicates (same message id) answered once.'),
    platformRoute('slack', 'Slack Events API', 'Verified by X-Slack-Signature (v0 HMAC-SHA256 with X-Slack-Request-Timestamp, 5-minute window). url_verification answers its challenge; messages are answered in their thread with chat.postMessage; the bot\'s own messages and retries already seen are ignored.'),
  ]
  for (const r of routes) {
    app.post(`/${r.platform}/:botId`, async ({ params, body, request, query, set }) => {
      const a = await receive(k, r.platform, params.botId, request, body, query as Record<string, string | undefined>)
      set.status = a.status
      return a.body as any
    }, { params: r.params, body: r.body, type: r.type, response: r.response, detail: r.detail })
  }
  return app
    .get('/whatsapp/:botId', ({ params, query, set }) => {
      const challenge = whatsappHandshake(k, params.botId, query)
      set.headers['content-type'] = 'text/plain; charset=utf-8'
      return challenge
    }, {
      params: BotIdParams, query: WhatsAppQuery,
      response: { 200: t.String({ description: 'hub.challenge, echoed' }), 403: ErrorBody, 404: ErrorBody },
      detail: { summary: 'WhatsApp webhook verification', description: 'Meta\'s handshake: answers hub.challenge as text when hub.mode is "subscribe" and hub.verify_token matches platform_config.verify_token; 403 otherwise.', security: [] },
    })
    .post('/custom/:botId', async ({ params, body, request, query, set, server }) => {
      enforceRate(k.limiter, set, `custom-webhook:${params.botId}:${clientIp(request, server, k.config.trustProxy)}`, CUSTOM_RPM)
      const a = await receive(k, 'custom', params.botId, request, body, query as Record<string, string | undefined>)
      set.status = a.status
      return a.body as any
    }, {
      params: BotIdParams, body: CustomMessage,
      response: { 200: CustomAnswer, 400: ErrorBody, 404: ErrorBody, 429: ErrorBody },
      detail: { summary: 'Custom channel: send a message, get the answer', description: 'No verification: the bot id is the address. Runs the bot synchronously (messages of one channel_id one at a time) and answers in the same response.', security: [] },
    })
}
