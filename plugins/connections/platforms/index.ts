import type { Platform } from './types'
import { slackPlatform } from './slack'
import { telegramPlatform } from './telegram'
import { discordPlatform } from './discord'
import { whatsappPlatform } from './whatsapp'
import { githubPlatform } from './github'
import { httpPlatform } from './http'
import { mcpPlatform } from './mcp'

/** The platform registry (GET /api/connections/platforms). */
export const PLATFORMS: Platform[] = [slackPlatform, telegramPlatform, discordPlatform, whatsappPlatform, githubPlatform, httpPlatform, mcpPlatform]
export const platformById = new Map(PLATFORMS.map((p) => [p.id, p]))
