import type { LlmRequest, LlmTurn, ResolvedLlm } from './types'
import { openaiTurn } from './openai'
import { anthropicTurn } from './anthropic'

export type { LlmRequest, LlmTurn, LlmToolCall, LlmUsage, ResolvedLlm, RetryOptions } from './types'
export { resolveLlm, resolveLlmSync, KEY_ENV, assertOwnKeyForBaseUrl, isUserBaseUrl } from './resolve'
export { retryDefaults } from './http'

/** One model turn over the provider's wire format; `onText` receives text as it arrives. */
export function callLlm(llm: ResolvedLlm, req: LlmRequest, onText?: (text: string) => void): Promise<LlmTurn> {
  return llm.wire === 'anthropic' ? anthropicTurn(llm, req, onText) : openaiTurn(llm, req, onText)
}
