/**
 * The runtime contract (DESIGN §2, §6). Every surface builds an AgentSpec and calls `run()` from
 * src/agent/run.ts; tools come in through a ToolSet. Nothing about bots, endpoints or workflows here.
 */
export type ProviderName = 'openai' | 'anthropic' | 'gemini' | 'groq' | 'ollama' | 'workers-ai' | 'custom'
export const PROVIDERS: ProviderName[] = ['openai', 'anthropic', 'gemini', 'groq', 'ollama', 'workers-ai', 'custom']

export type JsonSchema = Record<string, unknown>

export interface ToolDefinition {
  /** Unique within the ToolSet and readable, e.g. `github_list_issues`. */
  name: string
  description: string
  inputSchema: JsonSchema
  /** Where it comes from: `builtin`, `mcp:<serverId>`, `connection:<connectionId>`. */
  source?: string
}

export interface ToolContext {
  signal: AbortSignal
  ownerId: string
  runId?: string
  /** Which surface made the call (`api`, `bot`, `endpoint`, `chat`, `workflow`, `agent`), for the audit log. */
  surface?: string
  /** Progress notifications (MCP progress), streamed as `tool.progress` where a stream exists. */
  onProgress?: (p: { progress: number; total?: number; message?: string }) => void
}

export interface ToolResult {
  /** What the model sees. */
  content: string
  isError?: boolean
  /** Structured result for API callers, when there is one. */
  data?: unknown
  /** Binary parts (MCP images, audio, blob resources) as base64; a surface may keep them as files. Never audited. */
  files?: ToolFile[]
}

export interface ToolFile { mimeType: string; data: string; name?: string; uri?: string }

export interface ToolSet {
  list(): Promise<ToolDefinition[]>
  call(name: string, args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult>
}

export interface ToolCall { id: string; name: string; arguments: Record<string, unknown> }

/** Provider-neutral conversation messages; surfaces persist these and pass them back as history. */
export type ChatMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; name: string; content: string; isError?: boolean }

export interface AgentSpec {
  systemPrompt: string
  provider: ProviderName
  model: string
  /** BYOK key; when absent the platform key from the environment is used (DESIGN §8). */
  apiKey?: string | null
  /** For `custom` (required) and to override a provider's base URL. */
  baseUrl?: string | null
  temperature?: number
  /** Max output tokens per LLM call. */
  maxTokens?: number
  /** Max model turns (loop iterations). Default 10. */
  maxIterations?: number
  /** Max tool calls over the whole run. Default 10. */
  maxToolCalls?: number
  /** Total time budget; hard-capped at 60,000 ms. Default 30,000. */
  timeoutMs?: number
  outputFormat?: 'text' | 'markdown' | 'json'
  outputSchema?: JsonSchema | null
  tools?: ToolSet
  /** Who pays/owns: used for tool audit and tool context. */
  ownerId: string
  /** Surface name for tool audit (`bot`, `endpoint`, ...). */
  surface?: string
  /** LLM retry policy for 429/5xx (defaults: 500 ms base backoff, 3 retries; see src/llm/http.ts retryDefaults). */
  retry?: { baseMs?: number; maxRetries?: number } | null
}

export interface ToolCallSummary { tool: string; success: boolean; latency_ms: number }

export interface RunUsage {
  tokens_input: number
  tokens_output: number
  /** Cents as a number (may be fractional); cost_micro is the exact integer micro-cents. */
  cost_cents: number
  cost_micro: number
  cost_known: boolean
  latency_ms: number
  iterations: number
}

export interface RunResult {
  /** Parsed JSON for `json` output, else the text. */
  output: unknown
  /** Only when output was parsed JSON. */
  raw_output?: string
  text: string
  tool_calls: ToolCallSummary[]
  usage: RunUsage
  token_breakdown: { systemPrompt: number; total: number; estimated: boolean }
  /** The new messages of this run (assistant turns and tool results), to persist as history. */
  messages: ChatMessage[]
  stop_reason: string | null
}

/** Typed runtime events; the SSE writer (src/http/sse.ts) sends each as `event: <type>` with this JSON. */
export type RunEvent =
  | { type: 'run.started'; run_id: string; [extra: string]: unknown }
  | { type: 'text.delta'; run_id: string; text: string }
  | { type: 'tool.started'; run_id: string; call_id: string; tool: string; arguments: Record<string, unknown> }
  | { type: 'tool.progress'; run_id: string; call_id: string; tool: string; progress: number; total?: number; message?: string }
  | { type: 'tool.completed'; run_id: string; call_id: string; tool: string; success: boolean; latency_ms: number; result?: string; error?: string }
  | { type: 'usage'; run_id: string; tokens_input: number; tokens_output: number; cost_cents: number; iteration: number }
  | { type: 'run.completed'; run_id: string; result: RunResult }
  | { type: 'run.failed'; run_id: string; error: string; code: string; status: number; result: RunResult }
