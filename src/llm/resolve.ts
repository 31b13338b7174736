import type { Kernel } from '../kernel'
import type { Config } from '../config'
import type { AgentSpec, ProviderName } from '../agent/types'
import { PROVIDERS } from '../agent/types'
import { ApiError } from '../http/errors'
import type { ResolvedLlm } from './types'
import { hostKey, outboundLimits } from '../tools/outbound-limits'

/** The environment variable holding each provider's platform key (DESIGN §8). */
export const KEY_ENV: Record<ProviderName, string | null> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  gemini: 'GEMINI_API_KEY',
  groq: 'GROQ_API_KEY',
  'workers-ai': 'WORKERS_AI_API_KEY',
  ollama: null,
  custom: null,
}

export const BASE_ENV: Record<Exclude<ProviderName, 'custom'>, string> = {
  openai: 'OPENAI_BASE_URL',
  anthropic: 'ANTHROPIC_BASE_URL',
  gemini: 'GEMINI_BASE_URL',
  groq: 'GROQ_BASE_URL',
  ollama: 'OLLAMA_HOST',
  'workers-ai': 'WORKERS_AI_BASE_URL',
}

const trim = (s: string) => s.trim().replace(/\/+$/, '')

/** The field a surface stores its base URL in, so a refusal names what the user has to change. */
const BASE_URL_FIELD: Record<string, string> = { endpoint: 'llm_base_url', bot: 'llm_config.base_url' }
export const baseUrlField = (surface?: string) => (surface && BASE_URL_FIELD[surface]) || 'base_url'

/**
 * Whether a base URL is one the user chose rather than the one the operator configured for the provider.
 * Only the operator's base may receive the platform key (SECURITY.md promise 3).
 */
export function isUserBaseUrl(config: Config, provider: string, baseUrl: string | null | undefined): boolean {
  if (!baseUrl || !baseUrl.trim()) return false
  if (provider === 'custom' || !(provider in config.llmBaseUrls)) return true
  return trim(baseUrl) !== trim(config.llmBaseUrls[provider as keyof Config['llmBaseUrls']])
}

/**
 * The key rule, for create/update checks and for every run: a provider that would fall back to a platform key
 * (one with a KEY_ENV) may use a user-chosen base URL only with the user's own key. 400 naming `field` otherwise.
 */
export function assertOwnKeyForBaseUrl(config: Config, provider: string, baseUrl: string | null | undefined, hasOwnKey: boolean, field: string) {
  if (hasOwnKey || !KEY_ENV[provider as ProviderName] || !isUserBaseUrl(config, provider, baseUrl)) return
  throw new ApiError(400,
    `${field} points the ${provider} provider at a URL of your choice, so it needs your own API key: the platform key is only sent to the operator's ${BASE_ENV[provider as Exclude<ProviderName, 'custom'>]}. Set your own llm_api_key, or remove ${field}`,
    'llm_key_required', { [field]: 'needs your own llm_api_key (the platform key is never sent to a base URL you chose)' })
}

function openaiUrl(base: string) {
  return base.endsWith('/chat/completions') ? base : `${base}/chat/completions`
}

function anthropicUrl(base: string) {
  if (base.endsWith('/v1/messages')) return base
  return base.endsWith('/v1') ? `${base}/messages` : `${base}/v1/messages`
}

/**
 * Key and endpoint for a spec, without network access. Throws a 400 ApiError that names the provider and the
 * variable to set when no key is available, and for a `custom` provider without a base URL.
 */
export function resolveLlmSync(k: Kernel, spec: AgentSpec): ResolvedLlm & { userBaseUrl: boolean } {
  const provider = spec.provider
  if (!PROVIDERS.includes(provider)) throw new ApiError(400, `Unknown LLM provider "${provider}"; use one of ${PROVIDERS.join(', ')}`, 'llm_provider_unknown')
  if (!spec.model || !String(spec.model).trim()) throw new ApiError(400, `No model set for the ${provider} provider`, 'llm_model_missing')
  const byok = spec.apiKey && spec.apiKey.trim() ? spec.apiKey.trim() : null
  const envName = KEY_ENV[provider]
  const platformKey = provider in k.config.llmKeys ? k.config.llmKeys[provider as keyof typeof k.config.llmKeys] : null
  assertOwnKeyForBaseUrl(k.config, provider, spec.baseUrl, !!byok, baseUrlField(spec.surface))
  const key = byok ?? platformKey
  if (!key && envName) {
    throw new ApiError(400, `No API key for the ${provider} provider: give the agent its own key or set ${envName} on the server`, 'llm_key_missing')
  }
  let base: string
  const userBaseUrl = isUserBaseUrl(k.config, provider, spec.baseUrl)
  if (spec.baseUrl && spec.baseUrl.trim()) base = trim(spec.baseUrl)
  else if (provider === 'custom') throw new ApiError(400, 'The custom provider needs a base URL (llm_config.base_url) of an OpenAI-compatible API', 'llm_base_url_missing')
  else base = trim(k.config.llmBaseUrls[provider])
  if (provider === 'workers-ai' && base.includes('ACCOUNT_ID')) {
    throw new ApiError(400, 'The workers-ai provider needs your account endpoint: set WORKERS_AI_BASE_URL (https://api.cloudflare.com/client/v4/accounts/<id>/ai/v1) or the agent base URL with your own key', 'llm_base_url_missing')
  }
  if (provider === 'anthropic') {
    return {
      provider, wire: 'anthropic', url: anthropicUrl(base), userBaseUrl,
      headers: { 'content-type': 'application/json', 'x-api-key': key!, 'anthropic-version': '2023-06-01' },
    }
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (key) headers.authorization = `Bearer ${key}`
  return { provider, wire: 'openai', url: openaiUrl(base), headers, userBaseUrl }
}

/**
 * resolveLlmSync plus the outbound guard for base URLs that came from a user (custom or overridden), checked here
 * (fail before the run starts) and again on every call; calls hold the owner's outbound share.
 */
export async function resolveLlm(k: Kernel, spec: AgentSpec): Promise<ResolvedLlm> {
  const r = resolveLlmSync(k, spec)
  if (r.userBaseUrl) await k.outbound.check(r.url)
  const outbound = { guard: r.userBaseUrl ? k.outbound : null, limiter: outboundLimits(k), ownerId: spec.ownerId ?? null, host: r.userBaseUrl ? hostKey(r.url) : null }
  return { provider: r.provider, wire: r.wire, url: r.url, headers: r.headers, outbound }
}
