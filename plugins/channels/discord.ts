import { createPublicKey, verify as edVerify, type KeyObject } from 'node:crypto'
import { callApi, PlatformError, retryAfterMs } from './api'
import { cfgStr, type Channel, type InboundMessage } from './types'

export const DISCORD_MAX_TEXT = 2000
const HEX64 = /^[0-9a-fA-F]{64}$/
const HEX128 = /^[0-9a-fA-F]{128}$/

// Interaction types and callback types (Discord "Receiving and Responding").
const PING = 1, APPLICATION_COMMAND = 2, MESSAGE_COMPONENT = 3, AUTOCOMPLETE = 4, MODAL_SUBMIT = 5
const PONG = 1, DEFERRED_CHANNEL_MESSAGE = 5, DEFERRED_UPDATE_MESSAGE = 6, AUTOCOMPLETE_RESULT = 8

/** Public keys are parsed once per distinct hex string. */
const keys = new Map<string, KeyObject>()
function publicKey(hex: string): KeyObject {
  let key = keys.get(hex)
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(hex, 'hex').toString('base64url') }, format: 'jwk' })
    if (keys.size > 1000) keys.clear()
    keys.set(hex, key)
  }
  return key
}

/** Signed timestamps further than this from our clock are refused (as for Slack): a captured request cannot be replayed later. */
export const DISCORD_REPLAY_WINDOW_S = 300

/** Ed25519 over `timestamp + raw body` with the application's public key (hex), and the timestamp within 300 s of `nowMs`. */
export function verifyDiscord(publicKeyHex: string, signatureHex: string | null, timestamp: string | null, raw: string, nowMs: number): boolean {
  if (!signatureHex || !timestamp || !HEX128.test(signatureHex) || !HEX64.test(publicKeyHex)) return false
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowMs / 1000 - Number(timestamp)) > DISCORD_REPLAY_WINDOW_S) return false
  try {
    return edVerify(null, Buffer.from(timestamp + raw, 'utf8'), publicKey(publicKeyHex.toLowerCase()), Buffer.from(signatureHex, 'hex'))
  } catch {
    return false
  }
}

/** The text of a slash command: its string/number option values (through subcommands), else "/name". */
function commandText(data: any): string {
  const values: string[] = []
  const walk = (opts: any[] | undefined) => {
    for (const o of opts ?? []) {
      if (Array.isArray(o.options)) walk(o.options)
      else if (o.value !== undefined && o.value !== null) values.push(String(o.value))
    }
  }
  walk(data?.options)
  return values.length ? values.join(' ') : `/${data?.name ?? ''}`
}

const ASK_COMMAND = {
  name: 'ask', type: 1, description: 'Ask the bot',
  options: [{ type: 3, name: 'message', description: 'Your message', required: true }],
}

export const discord: Channel = {
  platform: 'discord',

  validateConfig(cfg) {
    const problems: Record<string, string> = {}
    if (!cfgStr(cfg, 'application_id')) problems['platform_config.application_id'] = 'is required for discord (General Information > Application ID)'
    else if (!/^\d{5,25}$/.test(cfgStr(cfg, 'application_id'))) problems['platform_config.application_id'] = 'must be the numeric application id'
    const pk = cfgStr(cfg, 'public_key')
    if (!pk) problems['platform_config.public_key'] = 'is required for discord (General Information > Public Key, hex)'
    else if (!HEX64.test(pk)) problems['platform_config.public_key'] = 'must be 64 hexadecimal characters (the Ed25519 public key)'
    if (cfg.bot_token !== undefined && cfg.bot_token !== null && typeof cfg.bot_token !== 'string') problems['platform_config.bot_token'] = 'must be a string'
    return problems
  },

  verify(k, bot, d) {
    return verifyDiscord(cfgStr(bot.platform_config, 'public_key'), d.headers.get('x-signature-ed25519'), d.headers.get('x-signature-timestamp'), d.raw, k.clock.now())
  },

  parse(_k, bot, d) {
    const i = d.body as any
    if (!i || typeof i !== 'object' || typeof i.type !== 'number') return { kind: 'respond', status: 400, body: { error: 'Not a Discord interaction', code: 'invalid_interaction' } }
    switch (i.type) {
      case PING: return { kind: 'respond', body: { type: PONG } }
      case MESSAGE_COMPONENT: case MODAL_SUBMIT: return { kind: 'respond', body: { type: DEFERRED_UPDATE_MESSAGE } }
      case AUTOCOMPLETE: return { kind: 'respond', body: { type: AUTOCOMPLETE_RESULT, data: { choices: [] } } }
      case APPLICATION_COMMAND: break
      default: return { kind: 'respond', status: 400, body: { error: `Unsupported interaction type ${i.type}`, code: 'invalid_interaction' } }
    }
    if (typeof i.id !== 'string' || typeof i.token !== 'string') return { kind: 'respond', status: 400, body: { error: 'Interaction id and token are required', code: 'invalid_interaction' } }
    const user = i.member?.user ?? i.user ?? {}
    const msg: InboundMessage = {
      dedupeKey: `interaction:${i.id}`,
      chatId: String(i.channel_id ?? i.channel?.id ?? user.id ?? i.id),
      userId: String(user.id ?? 'unknown'),
      userName: user.global_name ?? user.username ?? undefined,
      text: commandText(i.data),
      platformMessageId: i.id,
      reply: { application_id: String(i.application_id ?? cfgStr(bot.platform_config, 'application_id')), token: i.token },
    }
    return { kind: 'messages', messages: [msg] }
  },

  ack: () => ({ type: DEFERRED_CHANNEL_MESSAGE }),

  maxText: DISCORD_MAX_TEXT,

  async send(k, _bot, msg, text) {
    // Follow-up messages through the interaction webhook (the token is the credential; valid 15 min).
    const r = await callApi('Discord', `${k.config.platformApis.discord}/webhooks/${msg.reply.application_id}/${msg.reply.token}`, { method: 'POST', body: { content: text } })
    if (r.status >= 300) throw new PlatformError('Discord', r.status, `follow-up message: ${r.json?.message ?? `HTTP ${r.status}`}`, retryAfterMs(r.json?.retry_after))
    return r.json?.id != null ? String(r.json.id) : null
  },

  async register(k, bot, webhookUrl) {
    const token = cfgStr(bot.platform_config, 'bot_token')
    const appId = cfgStr(bot.platform_config, 'application_id')
    if (!token) {
      return {
        warnings: [`Set "Interactions Endpoint URL" of Discord application ${appId} to ${webhookUrl} in the developer portal, and create a slash command (e.g. /ask); add platform_config.bot_token to let activation do it for you.`],
        manual_setup_required: true,
      }
    }
    const auth = { authorization: `Bot ${token}` }
    const base = k.config.platformApis.discord
    // Discord PINGs the URL before saving it, so this succeeds only when we are reachable and verifying.
    const app = await callApi('Discord', `${base}/applications/@me`, { method: 'PATCH', headers: auth, body: { interactions_endpoint_url: webhookUrl } })
    if (app.status >= 300) throw new PlatformError('Discord', app.status, `setting the interactions endpoint URL: ${app.json?.message ?? `HTTP ${app.status}`}`).toApiError()
    const warnings: string[] = []
    const cmd = await callApi('Discord', `${base}/applications/${appId}/commands`, { method: 'POST', headers: auth, body: ASK_COMMAND })
    if (cmd.status >= 300) warnings.push(`Could not create the /ask command (${cmd.json?.message ?? `HTTP ${cmd.status}`}); create a slash command yourself.`)
    return { warnings, manual_setup_required: false }
  },

  async unregister(k, bot) {
    const token = cfgStr(bot.platform_config, 'bot_token')
    if (!token) return // nothing we can change without the bot token; paused bots answer 404
    const r = await callApi('Discord', `${k.config.platformApis.discord}/applications/@me`, { method: 'PATCH', headers: { authorization: `Bot ${token}` }, body: { interactions_endpoint_url: null } })
    if (r.status >= 300) throw new PlatformError('Discord', r.status, `clearing the interactions endpoint URL: ${r.json?.message ?? `HTTP ${r.status}`}`)
  },
}
