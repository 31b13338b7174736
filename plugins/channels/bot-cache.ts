import { perKernel, type Kernel } from '../../src/kernel'
import { loadBot, type BotRecord } from '../bots/service'

/** Decrypted active bots are reused for this long on the webhook hot path (pause/delete invalidate at once through unregisterWebhook). */
export const BOT_CACHE_MS = 1000
const MAX_ENTRIES = 10_000

type Cache = Map<string, { bot: BotRecord | null; at: number }>
const cacheOf = perKernel((): Cache => new Map())

/** The bot with its decrypted platform_config, cached briefly (monotonic time: a cache, not domain logic). */
export function cachedBot(k: Kernel, id: string): BotRecord | null {
  const cache = cacheOf(k)
  const now = performance.now()
  const hit = cache.get(id)
  if (hit && now - hit.at < BOT_CACHE_MS) return hit.bot
  const bot = loadBot(k, id)
  // Only active bots are kept: a bot that was just activated is never seen stale as paused or draft.
  if (bot?.status !== 'active') { cache.delete(id); return bot }
  if (cache.size >= MAX_ENTRIES) cache.clear()
  cache.set(id, { bot, at: now })
  return bot
}

/** Forget a bot (status or platform_config changed): the next delivery reads it again. */
export function invalidateBot(k: Kernel, id: string) {
  cacheOf(k).delete(id)
}
