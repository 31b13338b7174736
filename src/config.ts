import { resolve } from 'node:path'
import { isIP } from './ip-literal'
import { housekeepingConfig, type HousekeepingConfig } from './scheduler/config'

/** Every setting in one place (DESIGN §8). README documents each one. */
export interface Config {
  port: number
  host: string
  dataDir: string
  secretKey: string | null
  publicUrl: string | null
  /** Which proxies' X-Forwarded-* headers are believed (AGENTBASE_TRUST_PROXY); false = none. */
  trustProxy: ProxyTrust | false
  openRegistration: boolean
  /** Origins allowed to call the authenticated API from a browser (AGENTBASE_CORS_ORIGINS); none by default. */
  corsOrigins: string[]
  /** Origins allowed on public surfaces: agent-endpoint runs and their streams (AGENTBASE_CORS_PUBLIC_ORIGINS); `*` by default. */
  corsPublicOrigins: string[]
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
  /** Fair shares of outbound traffic (src/tools/outbound-limits.ts): per owner, per user-chosen host, owner queue. */
  outboundLimits: { perOwner: number; perHost: number; ownerQueue: number }
  /** An embeddings model for chat tool selection (a second signal beside BM25); null: none (the default). */
  chatEmbeddings: { provider: 'openai' | 'gemini' | 'groq' | 'ollama' | 'workers-ai'; model: string } | null
  /** Retention and backups run by the scheduler's system jobs (src/scheduler/housekeeping.ts). */
  housekeeping: HousekeepingConfig
}

/**
 * Trusted proxies: `hops` proxies in front of us (each appends the address it saw to X-Forwarded-For),
 * or the proxies' own addresses (`cidrs`): then hops are skipped from the right while they are proxies.
 */
export type ProxyTrust = { hops: number; cidrs?: undefined } | { cidrs: string[]; hops?: undefined }

type Env = Record<string, string | undefined>

const TRUE = /^(1|true|on|yes)$/i
const FALSE = /^(0|false|off|no)$/i
/** A boolean setting: on/off (true/false, yes/no, 1/0); anything else stops start-up. */
function bool(name: string, v: string | undefined): boolean {
  if (v === undefined || v.trim() === '') return false
  if (TRUE.test(v.trim())) return true
  if (FALSE.test(v.trim())) return false
  throw new ConfigError(`${name} must be "on" or "off", got "${v}"`)
}
const str = (v: string | undefined) => (v === undefined || v.trim() === '' ? null : v.trim())
const trimSlash = (s: string) => s.replace(/\/+$/, '')

export class ConfigError extends Error {}

const wrapConfig = <T>(f: () => T): T => { try { return f() } catch (err) { throw new ConfigError((err as Error).message) } }

function int(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined || v === '') return dflt
  const n = Number(v)
  if (v.trim() === '' || !Number.isInteger(n) || n < 0) throw new ConfigError(`${name} must be a non-negative integer, got "${v}"`)
  return n
}

/** A count that must be at least `min` (pool sizes, queue bounds): 0 would stall or refuse all work. */
function atLeast(name: string, v: string | undefined, dflt: number, min: number): number {
  const n = int(name, v, dflt)
  if (n < min) throw new ConfigError(`${name} must be an integer of at least ${min}, got "${v}"`)
  return n
}

/** An absolute http(s) URL without query or fragment; trailing slashes dropped. */
function httpUrl(name: string, v: string | undefined, dflt: string | null): string | null {
  const raw = v === undefined || v.trim() === '' ? dflt : v.trim()
  if (raw === null) return null
  let u: URL
  try { u = new URL(raw) } catch { throw new ConfigError(`${name} must be an absolute http(s) URL such as https://agents.example.com, got "${v}"`) }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname || u.search || u.hash || u.username || u.password) {
    throw new ConfigError(`${name} must be an absolute http(s) URL without credentials, query or fragment, such as https://agents.example.com, got "${v}"`)
  }
  return trimSlash(raw)
}

const isIpOrCidr = (s: string) => {
  const [ip, bits, extra] = s.split('/')
  const v = isIP(ip)
  if (!v || extra !== undefined) return false
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (v === 4 ? 32 : 128))
}

/** AGENTBASE_TRUST_PROXY: off, on (one proxy), a number of proxies, or the proxies' addresses/CIDRs. */
export function parseTrustProxy(v: string | undefined): ProxyTrust | false {
  const s = (v ?? '').trim()
  const accepts = 'accepts off, on (one proxy), the number of proxies in front (e.g. 2), or a comma-separated list of proxy IPs/CIDRs (e.g. 127.0.0.1,10.0.0.0/8)'
  if (s === '' || FALSE.test(s)) return false
  if (/^(true|on|yes)$/i.test(s)) return { hops: 1 }
  if (/^\d+$/.test(s)) {
    const n = Number(s)
    if (n > 0 && n <= 32) return { hops: n }
    throw new ConfigError(`AGENTBASE_TRUST_PROXY ${accepts}; got "${v}"`)
  }
  const cidrs = s.split(',').map((x) => x.trim()).filter(Boolean)
  if (!cidrs.length || !cidrs.every(isIpOrCidr)) throw new ConfigError(`AGENTBASE_TRUST_PROXY ${accepts}; got "${v}"`)
  return { cidrs }
}

/** A comma-separated list of web origins (scheme://host[:port]) or `*`. */
function origins(name: string, v: string | undefined, dflt: string[]): string[] {
  if (v === undefined) return dflt
  const list = v.split(',').map((x) => x.trim()).filter(Boolean)
  for (const o of list) {
    if (o === '*') continue
    let u: URL | null = null
    try { u = new URL(o) } catch { /* reported below */ }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== o) {
      throw new ConfigError(`${name} must be * or a comma-separated list of origins such as https://app.example.com (scheme, host and port only), got "${o}"`)
    }
  }
  return list
}

/** The master key is the root of every secret at rest and of JWT signing: too short is guessable. */
export const MIN_SECRET_KEY_LENGTH = 32

function port(v: string | undefined): number {
  const n = int('PORT', v, 8090)
  if (n > 65535) throw new ConfigError(`PORT must be between 0 and 65535, got "${v}"`)
  return n
}

export function loadConfig(given: Env = process.env, overrides: Partial<Config> = {}): Config {
  // Every variable this function reads is a known setting; an AGENTBASE_* variable it never read is a typo.
  const read = new Set<string>()
  const env = new Proxy(given, { get: (target, key) => { if (typeof key === 'string') read.add(key); return target[key as string] } })
  const config = settings(env)
  const unknown = Object.keys(given).filter((key) => key.startsWith('AGENTBASE_') && !read.has(key))
  if (unknown.length) {
    const near = closest(unknown[0], [...read].filter((key) => key.startsWith('AGENTBASE_')))
    throw new ConfigError(`unknown setting ${unknown[0]}${near ? ` (did you mean ${near}?)` : ''}; README.md "Configuration" lists every variable`)
  }
  return { ...config, ...overrides }
}

/** The known name within a few edits of a misspelt one. */
function closest(name: string, known: string[]): string | null {
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i)
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0]
      row[0] = i
      for (let j = 1; j <= b.length; j++) {
        const cur = row[j]
        row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
        prev = cur
      }
    }
    return row[b.length]
  }
  const best = known.map((k) => [k, distance(name, k)] as const).sort((x, y) => x[1] - y[1])[0]
  return best && best[1] <= 4 ? best[0] : null
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

function settings(env: Env): Config {
  const sync = (env.AGENTBASE_SYNC ?? 'full').toLowerCase()
  if (sync !== 'full' && sync !== 'normal') throw new ConfigError(`AGENTBASE_SYNC must be "full" or "normal", got "${env.AGENTBASE_SYNC}"`)
  const secretKey = str(env.AGENTBASE_SECRET_KEY)
  if (secretKey !== null && secretKey.length < MIN_SECRET_KEY_LENGTH) {
    throw new ConfigError(`AGENTBASE_SECRET_KEY must be at least ${MIN_SECRET_KEY_LENGTH} characters (e.g. the output of "openssl rand -base64 32"), got ${secretKey.length}`)
  }
  const logLevel = (env.LOG_LEVEL ?? 'info').toLowerCase()
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be debug, info, warn, error or silent, got "${env.LOG_LEVEL}"`)
  const ollama = httpUrl('OLLAMA_HOST', env.OLLAMA_HOST, 'http://127.0.0.1:11434')!
  const url = (name: string, dflt: string) => httpUrl(name, env[name], dflt)!

  const config: Config = {
    port: port(env.PORT),
    host: env.HOST ?? '0.0.0.0',
    dataDir: resolve(env.AGENTBASE_DATA_DIR ?? './data'),
    secretKey,
    publicUrl: httpUrl('AGENTBASE_PUBLIC_URL', env.AGENTBASE_PUBLIC_URL, null),
    trustProxy: parseTrustProxy(env.AGENTBASE_TRUST_PROXY),
    openRegistration: bool('AGENTBASE_OPEN_REGISTRATION', env.AGENTBASE_OPEN_REGISTRATION),
    corsOrigins: origins('AGENTBASE_CORS_ORIGINS', env.AGENTBASE_CORS_ORIGINS, []),
    corsPublicOrigins: origins('AGENTBASE_CORS_PUBLIC_ORIGINS', env.AGENTBASE_CORS_PUBLIC_ORIGINS, ['*']),
    outboundAllow: (env.AGENTBASE_OUTBOUND_ALLOW ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    allowStdioMcp: bool('AGENTBASE_ALLOW_STDIO_MCP', env.AGENTBASE_ALLOW_STDIO_MCP),
    sync,
    billing: bool('AGENTBASE_BILLING', env.AGENTBASE_BILLING),
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
      openai: url('OPENAI_BASE_URL', 'https://api.openai.com/v1'),
      anthropic: url('ANTHROPIC_BASE_URL', 'https://api.anthropic.com'),
      gemini: url('GEMINI_BASE_URL', 'https://generativelanguage.googleapis.com/v1beta/openai'),
      groq: url('GROQ_BASE_URL', 'https://api.groq.com/openai/v1'),
      ollama: ollama.endsWith('/v1') ? ollama : `${ollama}/v1`,
      'workers-ai': url('WORKERS_AI_BASE_URL', 'https://api.cloudflare.com/client/v4/accounts/ACCOUNT_ID/ai/v1'),
    },
    platformApis: {
      telegram: url('TELEGRAM_API_URL', 'https://api.telegram.org'),
      discord: url('DISCORD_API_URL', 'https://discord.com/api/v10'),
      slack: url('SLACK_API_URL', 'https://slack.com/api'),
      whatsapp: url('WHATSAPP_API_URL', 'https://graph.facebook.com/v21.0'),
      github: url('GITHUB_API_URL', 'https://api.github.com'),
    },
    webhookDisableAfterDays: int('AGENTBASE_WEBHOOK_DISABLE_AFTER_DAYS', env.AGENTBASE_WEBHOOK_DISABLE_AFTER_DAYS, 5),
    shutdownGraceMs: int('AGENTBASE_SHUTDOWN_GRACE_MS', env.AGENTBASE_SHUTDOWN_GRACE_MS, 10000),
    passwordMemoryKib: int('AGENTBASE_PASSWORD_MEMORY_KIB', env.AGENTBASE_PASSWORD_MEMORY_KIB, 19456),
    channelConcurrency: atLeast('AGENTBASE_CHANNEL_CONCURRENCY', env.AGENTBASE_CHANNEL_CONCURRENCY, 64, 1),
    runConcurrency: atLeast('AGENTBASE_RUN_CONCURRENCY', env.AGENTBASE_RUN_CONCURRENCY, 16, 1),
    runQueueMax: atLeast('AGENTBASE_RUN_QUEUE_MAX', env.AGENTBASE_RUN_QUEUE_MAX, 1000, 1),
    outboundLimits: {
      perOwner: atLeast('AGENTBASE_OUTBOUND_PER_OWNER', env.AGENTBASE_OUTBOUND_PER_OWNER, 32, 1),
      perHost: atLeast('AGENTBASE_OUTBOUND_PER_HOST', env.AGENTBASE_OUTBOUND_PER_HOST, 64, 1),
      ownerQueue: atLeast('AGENTBASE_OUTBOUND_QUEUE_PER_OWNER', env.AGENTBASE_OUTBOUND_QUEUE_PER_OWNER, 256, 0),
    },
    chatEmbeddings: chatEmbeddings(env.AGENTBASE_CHAT_EMBEDDINGS),
    housekeeping: wrapConfig(() => housekeepingConfig(env)),
  }
  if (config.passwordMemoryKib < 1024) throw new ConfigError(`AGENTBASE_PASSWORD_MEMORY_KIB must be at least 1024, got "${env.AGENTBASE_PASSWORD_MEMORY_KIB}"`)
  return config
}
