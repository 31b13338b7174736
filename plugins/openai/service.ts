import { ApiError, badRequest } from '../../src/http/errors'
import type { ChatMessage, RunEvent, RunResult } from '../../src/agent/types'
import type { RunInput } from '../../src/agent/run'

/** OpenAI Chat Completions request -> our run input; run events -> OpenAI's response and chunk objects. */

export interface CompletionRequest {
  model: string
  input: RunInput
  systemExtra: string
  stream: boolean
  includeUsage: boolean
  user: string | null
}

type Msg = { role?: unknown; content?: unknown }

/** Text of a message's content: a string, or an array of `{ type: 'text', text }` parts. */
function textOf(content: unknown, i: number): string {
  if (content === null || content === undefined) return ''
  if (typeof content === 'string') return content
  if (Array.isArray(content)) {
    return content.map((part, j) => {
      const p = part as { type?: unknown; text?: unknown }
      if (p && p.type === 'text' && typeof p.text === 'string') return p.text
      throw badRequest(`messages[${i}].content[${j}]: only text content parts are supported`, { messages: `content part ${j} of message ${i} is not text` })
    }).join('')
  }
  throw badRequest(`messages[${i}].content must be a string or an array of text parts`, { messages: `message ${i} has invalid content` })
}

/**
 * Validates the request. The agent keeps its own prompt, model, tools and limits: `system`/`developer`
 * messages are added after its prompt, the last message must be the user's, earlier user/assistant turns
 * become history. Sampling parameters (temperature, max_tokens...) and client `tools` are the agent's business
 * and are ignored, as are unknown fields (clients send many).
 */
export function parseCompletionRequest(body: unknown): CompletionRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Request body must be a JSON object')
  const b = body as Record<string, unknown>
  if (typeof b.model !== 'string' || !b.model) throw badRequest('you must provide a model parameter', { model: 'required' })
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw badRequest('messages must be a non-empty array', { messages: 'required, non-empty' })
  if (b.messages.length > 1000) throw badRequest('messages: at most 1000 messages', { messages: 'too many' })
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') throw badRequest('stream must be a boolean', { stream: 'must be a boolean' })
  const opts = b.stream_options as { include_usage?: unknown } | undefined | null
  if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) throw badRequest('stream_options must be an object', { stream_options: 'must be an object' })
  if (opts && !b.stream) throw badRequest('stream_options is only allowed when stream is true', { stream_options: 'only with stream: true' })
  const system: string[] = []
  const history: ChatMessage[] = []
  const msgs = b.messages as Msg[]
  msgs.forEach((m, i) => {
    if (!m || typeof m !== 'object') throw badRequest(`messages[${i}] must be an object`, { messages: `message ${i} is not an object` })
    const text = textOf(m.content, i)
    switch (m.role) {
      case 'system': case 'developer': system.push(text); break
      case 'user': history.push({ role: 'user', content: text }); break
      case 'assistant': history.push({ role: 'assistant', content: text }); break
      case 'tool': case 'function': break // results of client-side tools: our agents run their own tools
      default: throw badRequest(`messages[${i}].role must be one of system, developer, user, assistant, tool`, { messages: `message ${i} has an invalid role` })
    }
  })
  const last = history.pop()
  if (!last || last.role !== 'user') throw badRequest('The last message (after system messages) must be from the user', { messages: 'must end with a user message' })
  return {
    model: b.model,
    input: { message: last.content, history },
    systemExtra: system.join('\n\n'),
    stream: b.stream === true,
    includeUsage: !!opts && opts.include_usage === true,
    user: typeof b.user === 'string' ? b.user.slice(0, 256) : null,
  }
}

export interface Usage { prompt_tokens: number; completion_tokens: number; total_tokens: number }
export const usageOf = (u: { tokens_input: number; tokens_output: number }): Usage =>
  ({ prompt_tokens: u.tokens_input, completion_tokens: u.tokens_output, total_tokens: u.tokens_input + u.tokens_output })

/**
 * Tool activity as `reasoning_content`: the tools already ran on our side, so they must not look like
 * OpenAI `tool_calls` (a client would try to run them). Chat UIs that show reasoning (Open WebUI, LibreChat,
 * LobeChat...) display these lines in their collapsible "thinking" block; plain clients ignore the field.
 */
export function toolActivity(e: RunEvent): string | null {
  if (e.type === 'tool.started') return `Calling tool \`${e.tool}\` with ${JSON.stringify(e.arguments)}\n`
  if (e.type === 'tool.completed') return e.success ? `Tool \`${e.tool}\` finished in ${Math.round(e.latency_ms)} ms\n` : `Tool \`${e.tool}\` failed: ${e.error ?? 'error'}\n`
  return null
}

export const completionId = (runId: string) => `chatcmpl-${runId.replace(/^run_/, '')}`

export function completion(id: string, created: number, model: string, content: string, reasoning: string, usage: Usage) {
  return {
    id, object: 'chat.completion' as const, created, model, system_fingerprint: null,
    choices: [{
      index: 0,
      message: { role: 'assistant' as const, content, refusal: null, ...(reasoning ? { reasoning_content: reasoning } : {}) },
      logprobs: null,
      finish_reason: 'stop' as const,
    }],
    usage,
  }
}

export function chunk(id: string, created: number, model: string, delta: Record<string, unknown>, finish: 'stop' | null, includeUsage: boolean) {
  return {
    id, object: 'chat.completion.chunk' as const, created, model, system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  }
}

/** The final chunk of `stream_options.include_usage`: no choices, the whole request's usage. */
export const usageChunk = (id: string, created: number, model: string, usage: Usage) =>
  ({ id, object: 'chat.completion.chunk' as const, created, model, system_fingerprint: null, choices: [], usage })

export const failed = (e: Extract<RunEvent, { type: 'run.failed' }>) => new ApiError(e.status, e.error, e.code)

/** The tool activity of a finished run (JSON answers), the same lines a stream sends as it happens. */
export function toolActivityOf(result: RunResult): string {
  let out = ''
  let done = 0
  for (const m of result.messages) {
    if (m.role === 'assistant' && m.toolCalls) for (const c of m.toolCalls) out += `Calling tool \`${c.name}\` with ${JSON.stringify(c.arguments)}\n`
    else if (m.role === 'tool') {
      const s = result.tool_calls[done++]
      out += m.isError ? `Tool \`${m.name}\` failed: ${m.content.slice(0, 300)}\n` : `Tool \`${m.name}\` finished in ${Math.round(s?.latency_ms ?? 0)} ms\n`
    }
  }
  return out
}

/** Running an agent endpoint as OpenAI-compatible completions do (used by /v1 and the MCP server too). */
export { executeAgentRun, startAgentRun } from './runner'
