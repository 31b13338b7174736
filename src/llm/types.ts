import type { OutboundGuard } from '../tools/outbound'
import type { OutboundLimiter } from '../tools/outbound-limits'
import type { ChatMessage, ProviderName, ToolDefinition } from '../agent/types'

/** Which wire protocol a provider speaks. */
export type WireFormat = 'openai' | 'anthropic'

/** A provider with its key and endpoint resolved (src/llm/resolve.ts). Never log `headers`: they hold the key. */
export interface ResolvedLlm {
  provider: ProviderName
  wire: WireFormat
  /** Full URL of the chat endpoint (`.../chat/completions` or `.../v1/messages`). */
  url: string
  headers: Record<string, string>
  /**
   * How the request leaves (src/tools/outbound.ts): `guard` is set for user-chosen base URLs (checked on every
   * call); `limiter` + `ownerId` give the call its owner's fair share; `host` is null for operator-configured bases.
   */
  outbound?: { guard: OutboundGuard | null; limiter: OutboundLimiter | null; ownerId: string | null; host: string | null }
}

export interface RetryOptions {
  /** First backoff step in ms (doubles per attempt) when the provider gives no retry-after. Default 500. */
  baseMs?: number
  /** Retries after the first attempt for 429/5xx/network errors. Default 3. */
  maxRetries?: number
}

export interface LlmRequest {
  model: string
  system: string
  messages: ChatMessage[]
  tools: ToolDefinition[]
  maxTokens?: number
  temperature?: number
  stream: boolean
  signal: AbortSignal
  /** performance.now() value after which no retry may be scheduled. */
  deadline: number
  retry?: RetryOptions
}

export interface LlmToolCall {
  id: string
  name: string
  arguments: Record<string, unknown>
  /** Set when the model's arguments were not a JSON object; the runtime reports it to the model. */
  argumentsError?: string
}

export interface LlmUsage { input: number; output: number }

/** One model turn, normalized. `stopReason`: stop | tool_calls | length | content_filter | other raw values. */
export interface LlmTurn {
  text: string
  toolCalls: LlmToolCall[]
  usage: LlmUsage | null
  stopReason: string | null
}
