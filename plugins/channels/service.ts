import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { PlatformError } from './api'
import { telegram } from './telegram'
import { discord } from './discord'
import { whatsapp } from './whatsapp'
import { slack } from './slack'
import { custom } from './custom'
import { invalidateBot } from './bot-cache'
import type { Channel, ChannelBot, Platform, RegisterResult } from './types'

export type { ChannelBot, Platform, RegisterResult } from './types'
export { PLATFORMS } from './types'
export { invalidateBot } from './bot-cache'

/** One adapter per platform behind one interface (verify, parse, reply, register, unregister). */
export const channels: Record<Platform, Channel> = { telegram, discord, whatsapp, slack, custom }

export function channelFor(platform: string): Channel {
  const c = channels[platform as Platform]
  if (!c) throw new ApiError(400, `Unknown platform "${platform}"; use telegram, discord, whatsapp, slack or custom`, 'validation_failed', { platform: 'must be one of telegram, discord, whatsapp, slack, custom' })
  return c
}

/** The webhook path a platform delivers to (joined to the public base URL by the caller). */
export const webhookPath = (bot: { id: string; platform: string }) => `/api/bots/webhook/${bot.platform}/${bot.id}`

/**
 * Checks a platform_config for its platform. Returns the problems (field -> message), empty when fine.
 * `platform_config.<field>` keys, so a 400 names what is missing.
 */
export function platformConfigProblems(platform: string, cfg: unknown): Record<string, string> {
  if (cfg !== undefined && cfg !== null && (typeof cfg !== 'object' || Array.isArray(cfg))) return { platform_config: 'must be an object' }
  return channelFor(platform).validateConfig((cfg ?? {}) as Record<string, unknown>)
}

/** Throws 400 naming every missing or malformed platform_config field. */
export function validatePlatformConfig(platform: string, cfg: unknown): void {
  const problems = platformConfigProblems(platform, cfg)
  const fields = Object.keys(problems)
  if (fields.length === 0) return
  throw new ApiError(400, `${fields.map((f) => `${f} ${problems[f]}`).join('; ')}`, 'validation_failed', problems)
}

/**
 * Registers the bot's webhook with its platform (activate). Telegram: getWebhookInfo, then setWebhook
 * with the secret token; Discord: interactions endpoint + /ask command when a bot_token is given;
 * Slack and WhatsApp: credentials checked, the URL is set by hand (manual_setup_required).
 * Throws 400 for a bad platform_config, 502/504 when the platform refuses or is unreachable.
 */
export async function registerWebhook(k: Kernel, bot: ChannelBot, webhookUrl: string): Promise<RegisterResult> {
  validatePlatformConfig(bot.platform, bot.platform_config)
  invalidateBot(k, bot.id)
  try {
    return await channelFor(bot.platform).register(k, bot, webhookUrl)
  } catch (err) {
    throw err instanceof PlatformError ? err.toApiError() : err
  }
}

/** Unregisters the webhook (pause, delete). Throws on platform failure; delete treats it as best effort. */
export async function unregisterWebhook(k: Kernel, bot: ChannelBot): Promise<void> {
  invalidateBot(k, bot.id)
  try {
    await channelFor(bot.platform).unregister(k, bot)
  } catch (err) {
    throw err instanceof PlatformError ? err.toApiError() : err
  }
}
