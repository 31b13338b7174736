import { resolve } from 'node:path'
import { housekeepingConfig, type HousekeepingConfig } from './scheduler/config'

/** Every setting in one place (DESIGN §8). README documents each one. */
export interface Config {
  port: number
  host: string
  dataDir: string
  secretKey: string | null
  publicUrl: string | null
  trustProxy: boolean
  openRegistration: boolean
  outboundAllow: string[]
  allowStdioMcp: boolean
  sync: 'full' | 'normal'
  billing: boolean
  metricsToken: string | null
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent'
  /** Platform LLM keys used when a bot or endpoint has none of its own. */
  llmKeys: Record<'openai' | 'anthropic' | 'gemini' | 'groq' | 'workers-ai', string | null>
  llmBaseUrls: Record<'openai' | 'anthropic' | 'gemini' | 'groq' | 'ollama' | 'workers-ai', string>
  platformApis: Record<'telegram' | 'discord' | 'slack' | 'whatsapp' | 'github', string>
  /** Days a webhook may keep failing before it is disabled. */
  webhookDisableAfterDays: number
  shutdownGraceMs: number
  /** argon2id memory cost in KiB for new password hashes. */
  passwordMemoryKib: number
  /** Bot conversations answered at once by the channels worker (messages of one conversation never run in parallel). */
  channelConcurrency: number
  /** Async agent-endpoint runs executed at once (the worker pool size). */
  runConcurrency: number
  /** Async runs waiting in the queue before POST /api/run/:slug answers 429. */
  runQueueMax: number
  /** Retention and backups run by the scheduler's system jobs (src/scheduler/housekeeping.ts). */
  housekeeping: HousekeepingConfig
  /** An embeddings model for chat tool selection (a second signal beside BM25); null: none (the default). */
  chatEmbeddings: { provider: 'openai' | 'gemini' | 'groq' | 'ollama' | 'workers-ai'; model: string } | null
}

type Env = Record<string, string | undefined>

const bool = (v: string | undefined) => v !== undefined && /^(1|true|on|yes)$/i.test(v.trim())
const str = (v: string | undefined) => (v === undefined || v.trim() === '' ? null : v.trim())
const trimSlash = (s: string) => s.replace(/\/+$/, '')

export class ConfigError extends Error {}

const wrapConfig = <T>(f: () => T): T => { try { return f() } catch (err) { throw new ConfigError((err as Error).message) } }

function int(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined || v === '') return dflt
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${name} must be a non-negative integer, got "${v}"`)
  return n
}

/** `AGENTBASE_CHAT_EMBEDDINGS=<provider>:<model>` (an OpenAI-compatible /embeddings API), e.g. openai:text-embedding-3-small. */
function chatEmbeddings(v: string | undefined): Config['chatEmbeddings'] {
  const s = str(v)
  if (!s) return null
  const i = s.indexOf(':')
  const provider = i > 0 ? s.slice(0, i) : ''
  const model = i > 0 ? s.slice(i + 1).trim() : ''
  if (!['openai', 'gemini', 'groq', 'ollama', 'workers-ai'].includes(provider) || !model) {
    throw new ConfigError(`AGENTBASE_CHAT_EMBEDDINGS must be <provider>:<model> with provider openai, gemini, groq, ollama or workers-ai, got "${v}"`)
  }
  return { provider: provider as NonNullable<Config['chatEmbeddings']>['provider'], model }
}

export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const sync = (env.AGENTBASE_SYNC ?? 'full').toLowerCase()
  if (sync !== 'full' && sync !== 'normal') throw new ConfigError(`AGENTBASE_SYNC must be "full" or "normal", got "${env.AGENTBASE_SYNC}"`)
  const billing = (env.AGENTBASE_BILLING ?? 'off').toLowerCase()
  if (!['on', 'off', 'true', 'false', '1', '0'].includes(billing)) throw new ConfigError(`AGENTBASE_BILLING must be "on" or "off", got "${env.AGENTBASE_BILLING}"`)
  const logLevel = (env.LOG_LEVEL ?? 'info').toLowerCase()
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be debug, info, warn, error or silent, got "${env.LOG_LEVEL}"`)
  const ollama = trimSlash(env.OLLAMA_HOST ?? 'http://127.0.0.1:11434')

  const config: Config = {
    port: int('PORT', env.PORT, 8090),
    host: env.HOST ?? '0.0.0.0',
    dataDir: resolve(env.AGENTBASE_DATA_DIR ?? './data'),
    secretKey: str(env.AGENTBASE_SECRET_KEY),
    publicUrl: str(env.AGENTBASE_PUBLIC_URL) ? trimSlash(env.AGENTBASE_PUBLIC_URL!.trim()) : null,
    trustProxy: bool(env.AGENTBASE_TRUST_PROXY),
    openRegistration: bool(env.AGENTBASE_OPEN_REGISTRATION),
    outboundAllow: (env.AGENTBASE_OUTBOUND_ALLOW ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    allowStdioMcp: bool(env.AGENTBASE_ALLOW_STDIO_MCP),
    sync,
    billing: bool(billing),
    metricsToken: str(env.AGENTBASE_METRICS_TOKEN),
    logLevel: logLevel as Config['logLevel'],
    llmKeys: {
      openai: str(env.OPENAI_API_KEY),
      anthropic: str(env.ANTHROPIC_API_KEY),
      gemini: str(env.GEMINI_API_KEY),
      groq: str(env.GROQ_API_KEY),
      'workers-ai': str(env.WORKERS_AI_API_KEY),
    },
    llmBaseUrls: {
      openai: trimSlash(env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1'),
      anthropic: trimSlash(env.ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com'),
      gemini: trimSlash(env.GEMINI_BASE_URL ?? 'https://generativelanguage.googleapis.com/v1beta/openai'),
      groq: trimSlash(env.GROQ_BASE_URL ?? 'https://api.groq.com/openai/v1'),
      ollama: ollama.endsWith('/v1') ? ollama : `${ollama}/v1`,
      'workers-ai': trimSlash(env.WORKERS_AI_BASE_URL ?? 'https://api.cloudflare.com/client/v4/accounts/ACCOUNT_ID/ai/v1'),
    },
    platformApis: {
      telegram: trimSlash(env.TELEGRAM_API_URL ?? 'https://api.telegram.org'),
      discord: trimSlash(env.DISCORD_API_URL ?? 'https://discord.com/api/v10'),
      slack: trimSlash(env.SLACK_API_URL ?? 'https://slack.com/api'),
      whatsapp: trimSlash(env.WHATSAPP_API_URL ?? 'https://graph.facebook.com/v21.0'),
      github: trimSlash(env.GITHUB_API_URL ?? 'https://api.github.com'),
    },
    webhookDisableAfterDays: int('AGENTBASE_WEBHOOK_DISABLE_AFTER_DAYS', env.AGENTBASE_WEBHOOK_DISABLE_AFTER_DAYS, 5),
    shutdownGraceMs: int('AGENTBASE_SHUTDOWN_GRACE_MS', env.AGENTBASE_SHUTDOWN_GRACE_MS, 10000),
    passwordMemoryKib: int('AGENTBASE_PASSWORD_MEMORY_KIB', env.AGENTBASE_PASSWORD_MEMORY_KIB, 19456),
    channelConcurrency: Math.max(1, int('AGENTBASE_CHANNEL_CONCURRENCY', env.AGENTBASE_CHANNEL_CONCURRENCY, 64)),
    runConcurrency: Math.max(1, int('AGENTBASE_RUN_CONCURRENCY', env.AGENTBASE_RUN_CONCURRENCY, 16)),
    runQueueMax: Math.max(1, int('AGENTBASE_RUN_QUEUE_MAX', env.AGENTBASE_RUN_QUEUE_MAX, 1000)),
    housekeeping: wrapConfig(() => housekeepingConfig(env)),
    chatEmbeddings: chatEmbeddings(env.AGENTBASE_CHAT_EMBEDDINGS),
  }
  if (config.passwordMemoryKib < 1024) throw new ConfigError(`AGENTBASE_PASSWORD_MEMORY_KIB must be at least 1024, got "${env.AGENTBASE_PASSWORD_MEMORY_KIB}"`)
  return { ...config, ...overrides }
}
