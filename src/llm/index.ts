import type { LlmRequest, LlmTurn, ResolvedLlm } from './types'
import { openaiTurn } from './openai'
import { anthropicTurn } from './anthropic'

export type { LlmRequest, LlmTurn, LlmToolCall, LlmUsage, ResolvedLlm, RetryOptions } from './types'
export { resolveLlm, resolveLlmSync, KEY_ENV, assertOwnKeyForBaseUrl, isUserBaseUrl } from './resolve'
export { retryDefaults } from './http'

/**
 * One model turn over the provider's wire format; `onText` receives text as it arrives. The turn (request, retries,
 * reading the stream) holds one of its owner's outbound slots, so a tenant's slow model cannot take everyone's.
 */
export async function callLlm(llm: ResolvedLlm, req: LlmRequest, onText?: (text: string) => void): Promise<LlmTurn> {
  const turn = () => (llm.wire === 'anthropic' ? anthropicTurn(llm, req, onText) : openaiTurn(llm, req, onText))
  const o = llm.outbound
  if (!o?.limiter) return turn()
  const release = await o.limiter.acquire({ owner: o.ownerId, host: o.host, signal: req.signal })
  try { return await turn() } finally { release() }
}
