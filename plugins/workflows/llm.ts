/**
 * The one place workflows reach the agent runtime (`llm` steps, NL generation): through the run service
 * (DESIGN §12, source `workflow`), so every model call is a recorded, billed, cancellable run.
 */
import type { Kernel } from '../../src/kernel'
import type { AgentSpec, ProviderName, RunEvent, ToolSet } from '../../src/agent/types'
import { PROVIDERS } from '../../src/agent/types'
import { ApiError } from '../../src/http/errors'

const DEFAULT_MODELS: Partial<Record<ProviderName, string>> = {
  openai: 'gpt-4o-mini', anthropic: 'claude-3-5-haiku-latest', gemini: 'gemini-2.0-flash', groq: 'llama-3.1-8b-instant', ollama: 'llama3.1',
}

/** The caller's default provider: the first one with a platform key configured (OpenAI when none is). */
export function defaultLlm(k: Kernel): { provider: ProviderName; model: string } {
  const keys = k.config.llmKeys as Record<string, string | null>
  const provider = (['openai', 'anthropic', 'gemini', 'groq'] as ProviderName[]).find((p) => keys[p]) ?? 'openai'
  return { provider, model: DEFAULT_MODELS[provider]! }
}

export interface LlmCall {
  ownerId: string
  systemPrompt: string
  message: string
  provider?: string
  model?: string
  temperature?: number
  maxTokens?: number
  outputSchema?: Record<string, unknown> | null
  json?: boolean
  tools?: ToolSet
  timeoutMs?: number
  signal?: AbortSignal
  /** The workflow (source id) and what to record with the run (execution, step). */
  workflowId?: string | null
  workspaceId?: string | null
  meta?: Record<string, unknown>
  /** Runtime events (text.delta, tool.*, usage) as they happen. */
  onEvent?: (e: RunEvent) => void
}

export interface LlmOutcome { ok: boolean; output: unknown; text: string; error?: string; code?: string; status?: number; usage?: unknown }

export async function callModel(k: Kernel, c: LlmCall): Promise<LlmOutcome> {
  const d = defaultLlm(k)
  const provider = (c.provider ?? d.provider) as ProviderName
  if (!PROVIDERS.includes(provider)) throw new ApiError(400, `Unknown LLM provider "${provider}"`, 'llm_provider_unknown')
  const spec: AgentSpec = {
    systemPrompt: c.systemPrompt, provider, model: c.model ?? (c.provider ? DEFAULT_MODELS[provider] ?? d.model : d.model),
    temperature: c.temperature, maxTokens: c.maxTokens, timeoutMs: Math.min(c.timeoutMs ?? 60_000, 60_000),
    outputFormat: c.json || c.outputSchema ? 'json' : 'text', outputSchema: c.outputSchema ?? null, tools: c.tools, ownerId: c.ownerId, surface: 'workflow',
  }
  let final: RunEvent | null = null
  let runId: string | null = null
  const onAbort = () => { if (runId) void k.runs.cancel(runId) }
  try {
    const started = await k.runs.start({
      source: 'workflow', sourceId: c.workflowId ?? null, ownerId: c.ownerId, workspaceId: c.workspaceId ?? null, spec,
      input: { message: c.message }, mode: 'stream', meta: c.meta, refs: c.workflowId ? { workflow_id: c.workflowId } : undefined, onDisconnect: 'cancel',
    })
    runId = started.run.id
    if (c.signal?.aborted) onAbort()
    c.signal?.addEventListener('abort', onAbort, { once: true })
    for await (const e of started.events) {
      if (e.type === 'run.completed' || e.type === 'run.failed') final = e
      else if (e.type !== 'run.started') c.onEvent?.(e)
    }
  } catch (err) {
    if (err instanceof ApiError) return { ok: false, output: null, text: '', error: err.message, code: err.code, status: err.status }
    throw err
  } finally {
    c.signal?.removeEventListener('abort', onAbort)
  }
  if (final?.type === 'run.completed') return { ok: true, output: final.result.output, text: final.result.text, usage: final.result.usage }
  if (final?.type === 'run.failed') return { ok: false, output: null, text: final.result.text, error: final.error, code: final.code, status: final.status }
  return { ok: false, output: null, text: '', error: 'The model run ended without a result', code: 'internal_error', status: 500 }
}
