import type { ProviderName } from '../agent/types'

/**
 * List prices in US dollars per million tokens [input, output] (standard tier, no caching or batch discount),
 * as published by each provider in 2025. A dated snapshot (`gpt-4o-2024-08-06`, `claude-sonnet-4-20250514`)
 * or a `-latest` alias takes the price of its longest matching family name.
 */
export const PRICES: Record<string, [number, number]> = {
  // OpenAI
  'gpt-5': [1.25, 10], 'gpt-5-mini': [0.25, 2], 'gpt-5-nano': [0.05, 0.4],
  'gpt-4.1': [2, 8], 'gpt-4.1-mini': [0.4, 1.6], 'gpt-4.1-nano': [0.1, 0.4],
  'gpt-4o': [2.5, 10], 'gpt-4o-mini': [0.15, 0.6], 'chatgpt-4o-latest': [5, 15],
  'gpt-4-turbo': [10, 30], 'gpt-4': [30, 60], 'gpt-3.5-turbo': [0.5, 1.5],
  'o1': [15, 60], 'o1-mini': [1.1, 4.4], 'o1-pro': [150, 600],
  'o3': [2, 8], 'o3-mini': [1.1, 4.4], 'o3-pro': [20, 80], 'o4-mini': [1.1, 4.4],
  // Anthropic
  'claude-opus-4-5': [5, 25], 'claude-opus-4-1': [15, 75], 'claude-opus-4': [15, 75], 'claude-3-opus': [15, 75],
  'claude-sonnet-4-5': [3, 15], 'claude-sonnet-4': [3, 15], 'claude-3-7-sonnet': [3, 15], 'claude-3-5-sonnet': [3, 15],
  'claude-haiku-4-5': [1, 5], 'claude-3-5-haiku': [0.8, 4], 'claude-3-haiku': [0.25, 1.25],
  // Google Gemini
  'gemini-2.5-pro': [1.25, 10], 'gemini-2.5-flash': [0.3, 2.5], 'gemini-2.5-flash-lite': [0.1, 0.4],
  'gemini-2.0-flash': [0.1, 0.4], 'gemini-2.0-flash-lite': [0.075, 0.3],
  'gemini-1.5-pro': [1.25, 5], 'gemini-1.5-flash': [0.075, 0.3], 'gemini-1.5-flash-8b': [0.0375, 0.15],
  // Groq
  'llama-3.3-70b-versatile': [0.59, 0.79], 'llama-3.1-8b-instant': [0.05, 0.08],
  'llama3-70b-8192': [0.59, 0.79], 'llama3-8b-8192': [0.05, 0.08],
  'meta-llama/llama-4-scout-17b-16e-instruct': [0.11, 0.34], 'meta-llama/llama-4-maverick-17b-128e-instruct': [0.2, 0.6],
  'gemma2-9b-it': [0.2, 0.2], 'openai/gpt-oss-120b': [0.15, 0.75], 'openai/gpt-oss-20b': [0.1, 0.5],
}

const KEYS = Object.keys(PRICES).sort((a, b) => b.length - a.length)

/** The [input, output] USD-per-million price of a model, or null when unknown. */
export function priceOf(model: string): [number, number] | null {
  const m = model.trim().toLowerCase().replace(/^models\//, '')
  if (PRICES[m]) return PRICES[m]
  for (const key of KEYS) {
    if (m.startsWith(key) && /^[-:@.]/.test(m.slice(key.length)) && !/^-(mini|nano|pro|lite|turbo|instant|8b)/.test(m.slice(key.length))) return PRICES[key]
  }
  return null
}

/**
 * Cost of a call in integer micro-cents (1 cent = 1,000,000). USD per million tokens * 100 = micro-cents per token.
 * Ollama runs locally: free and known. An unknown model costs 0 with `known: false`.
 */
export function costMicro(provider: ProviderName, model: string, input: number, output: number): { micro: number; known: boolean } {
  if (provider === 'ollama') return { micro: 0, known: true }
  const p = priceOf(model)
  if (!p) return { micro: 0, known: false }
  return { micro: Math.round(input * p[0] * 100 + output * p[1] * 100), known: true }
}
