import { perKernel, type Kernel } from '../../src/kernel'
import { ApiError, badRequest } from '../../src/http/errors'
import { PROVIDERS, type ProviderName } from '../../src/agent/types'
import { KEY_ENV } from '../../src/llm/index'
import { PRICES } from '../../src/llm/pricing'
import { nowIso } from '../../src/clock'
import { settingsStore } from './store'

/** Which provider and model a chat turn uses, the provider catalog, and each user's default. */

export type ChatProvider = Exclude<ProviderName, 'custom'>
/** `custom` needs a per-agent base URL, which a chat has not: not offered. */
export const CHAT_PROVIDERS = PROVIDERS.filter((p): p is ChatProvider => p !== 'custom')

export const DEFAULT_MODELS: Record<ChatProvider, string> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-3-5-haiku-latest',
  gemini: 'gemini-2.0-flash',
  groq: 'llama-3.3-70b-versatile',
  ollama: 'llama3.2',
  'workers-ai': '@cf/meta/llama-3.1-8b-instruct',
}

const NAMES: Record<ChatProvider, string> = {
  openai: 'OpenAI', anthropic: 'Anthropic', gemini: 'Google Gemini', groq: 'Groq', ollama: 'Ollama (local)', 'workers-ai': 'Cloudflare Workers AI',
}

/** A model name's provider, so `provider: "gpt-4o"` or `"claude-3-5-sonnet"` works as the reference shows. */
function providerOfModel(model: string): ChatProvider | null {
  const m = model.toLowerCase()
  if (/^(gpt-|chatgpt-|o\d)/.test(m)) return 'openai'
  if (m.startsWith('claude')) return 'anthropic'
  if (m.startsWith('gemini')) return 'gemini'
  if (/^(llama|meta-llama\/|gemma|openai\/gpt-oss|mixtral|qwen)/.test(m)) return 'groq'
  if (m.startsWith('@cf/')) return 'workers-ai'
  return null
}

export const hasPlatformKey = (k: Kernel, p: ChatProvider) => KEY_ENV[p] === null || !!k.config.llmKeys[p as keyof typeof k.config.llmKeys]

/** The server's default: the first provider with a platform key, else local Ollama (needs no key). */
export function serverDefault(k: Kernel): ChatProvider {
  return CHAT_PROVIDERS.find((p) => p !== 'ollama' && hasPlatformKey(k, p)) ?? 'ollama'
}

/** Parses "openai", "gpt-4o", "openai:gpt-4o"; 400 naming the valid choices otherwise. */
export function parseProvider(raw: string): { provider: ChatProvider; model: string | null } {
  const s = raw.trim()
  const colon = s.indexOf(':')
  if (colon > 0 && (CHAT_PROVIDERS as string[]).includes(s.slice(0, colon))) return { provider: s.slice(0, colon) as ChatProvider, model: s.slice(colon + 1) || null }
  if ((CHAT_PROVIDERS as string[]).includes(s)) return { provider: s as ChatProvider, model: null }
  const inferred = providerOfModel(s)
  if (inferred) return { provider: inferred, model: s }
  if (s === 'custom') throw badRequest('The custom provider needs a base URL and is not available in chat', { provider: 'custom is not available in chat' })
  throw badRequest(`Unknown provider "${s}"; use one of ${CHAT_PROVIDERS.join(', ')}, a model name (gpt-4o, claude-3-5-sonnet) or provider:model`, { provider: 'unknown provider' })
}

export interface Choice { provider: ChatProvider; model: string }

/**
 * The provider and model for a request: explicit (`provider`, `model`) first, then the fallbacks given in order
 * (the conversation's, the user's settings), then the server default. `strictKey`: 400 when the chosen provider
 * has no platform key (chat has no per-conversation keys).
 */
export function resolveChoice(
  k: Kernel, userId: string, explicit: { provider?: string | null; model?: string | null }, opts: { strictKey: boolean; conversation?: { provider: string | null; model: string | null } },
): Choice {
  const settings = settingsStore(k.db).get(userId)
  let choice: Choice
  if (explicit.provider) {
    const p = parseProvider(explicit.provider)
    const sameAsConv = opts.conversation?.provider === p.provider ? opts.conversation.model : null
    const sameAsSettings = settings?.default_provider === p.provider ? settings.default_model : null
    choice = { provider: p.provider, model: p.model ?? explicit.model ?? sameAsConv ?? sameAsSettings ?? DEFAULT_MODELS[p.provider] }
  } else if (opts.conversation?.provider) {
    const p = opts.conversation.provider as ChatProvider
    choice = { provider: p, model: opts.conversation.model ?? DEFAULT_MODELS[p] }
  } else if (settings?.default_provider) {
    const p = settings.default_provider as ChatProvider
    choice = { provider: p, model: explicit.model ?? settings.default_model ?? DEFAULT_MODELS[p] }
  } else {
    const p = serverDefault(k)
    choice = { provider: p, model: explicit.model ?? DEFAULT_MODELS[p] }
  }
  if (opts.strictKey && !hasPlatformKey(k, choice.provider)) {
    throw new ApiError(400, `The ${choice.provider} provider is not configured on this server: set ${KEY_ENV[choice.provider]} or choose another provider (GET /api/chat/providers)`, 'llm_key_missing')
  }
  return choice
}

/** Models of the pricing table per provider (by name family). */
function pricedModels(p: ChatProvider): string[] {
  return Object.keys(PRICES).filter((m) => providerOfModel(m) === p)
}

interface Probe { at: number; reachable: boolean }
const PROBE_TTL_MS = 60_000
const probes = perKernel(() => new Map<string, Probe>())

/** Is anything answering at the base URL? Any HTTP answer counts; cached a minute; never sends a key. */
async function reachable(k: Kernel, url: string): Promise<boolean> {
  const cache = probes(k)
  const hit = cache.get(url)
  if (hit && k.clock.now() - hit.at < PROBE_TTL_MS) return hit.reachable
  let ok = false
  try {
    const res = await fetch(url, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(2000) })
    await res.body?.cancel()
    ok = true
  } catch { ok = false }
  cache.set(url, { at: k.clock.now(), reachable: ok })
  return ok
}

export async function listProviders(k: Kernel, userId: string) {
  const providers = await Promise.all(CHAT_PROVIDERS.map(async (p) => {
    const configured = hasPlatformKey(k, p)
    const base = k.config.llmBaseUrls[p]
    return {
      id: p, name: NAMES[p], configured, byok_only: !configured, key_env: KEY_ENV[p], base_url: base, default_model: DEFAULT_MODELS[p],
      models: pricedModels(p), reachable: configured ? await reachable(k, base) : null,
    }
  }))
  return { providers, default: userDefault(k, userId) }
}

/** Whether the user picked a default provider (PUT /api/chat/settings). */
export const settingsChosen = (k: Kernel, userId: string) => !!settingsStore(k.db).get(userId)?.default_provider

export function userDefault(k: Kernel, userId: string) {
  const s = settingsStore(k.db).get(userId)
  if (s?.default_provider) return { provider: s.default_provider, model: s.default_model ?? DEFAULT_MODELS[s.default_provider as ChatProvider], source: 'user' as const }
  const p = serverDefault(k)
  return { provider: p, model: DEFAULT_MODELS[p], source: 'server' as const }
}

export function putSettings(k: Kernel, userId: string, input: { default_provider: string | null; default_model?: string | null }) {
  let provider: ChatProvider | null = null
  let model = input.default_model ?? null
  if (input.default_provider) {
    const p = parseProvider(input.default_provider)
    provider = p.provider
    model = model ?? p.model
  } else if (model) throw badRequest('default_model needs a default_provider', { default_model: 'needs default_provider' })
  settingsStore(k.db).put({ owner_id: userId, default_provider: provider, default_model: model, updated_at: nowIso(k.clock) })
  return { default_provider: provider, default_model: provider ? model ?? DEFAULT_MODELS[provider] : null, effective: userDefault(k, userId) }
}
