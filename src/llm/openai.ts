import type { ChatMessage } from '../agent/types'
import type { LlmRequest, LlmToolCall, LlmTurn, LlmUsage, ResolvedLlm } from './types'
import { malformed, parseArguments, parseData, postLlm, readSse } from './http'
import { jsonTooDeep, MAX_JSON_DEPTH } from '../http/json'

/** OpenAI Chat Completions wire format: openai, groq, ollama, workers-ai, gemini (OpenAI-compatible) and custom. */

function toWireMessages(system: string, messages: ChatMessage[]) {
  const out: unknown[] = []
  if (system) out.push({ role: 'system', content: system })
  for (const m of messages) {
    if (m.role === 'user') out.push({ role: 'user', content: m.content })
    else if (m.role === 'tool') out.push({ role: 'tool', tool_call_id: m.toolCallId, content: m.content })
    else if (m.toolCalls?.length) {
      out.push({
        role: 'assistant',
        content: m.content || null,
        tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments ?? {}) } })),
      })
    } else out.push({ role: 'assistant', content: m.content })
  }
  return out
}

export function openaiBody(llm: ResolvedLlm, req: LlmRequest) {
  const body: Record<string, unknown> = { model: req.model, messages: toWireMessages(req.system, req.messages), stream: req.stream }
  if (req.stream) body.stream_options = { include_usage: true }
  if (req.tools.length) {
    body.tools = req.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.inputSchema } }))
  }
  // OpenAI deprecated max_tokens (the o-series refuse it); the compatible APIs still read max_tokens.
  if (req.maxTokens) body[llm.provider === 'openai' ? 'max_completion_tokens' : 'max_tokens'] = req.maxTokens
  if (req.temperature !== undefined && req.temperature !== null) body.temperature = req.temperature
  return body
}

const STOP: Record<string, string> = { stop: 'stop', tool_calls: 'tool_calls', function_call: 'tool_calls', length: 'length', content_filter: 'content_filter' }
const normStop = (r: unknown) => (typeof r === 'string' && r ? STOP[r] ?? r : null)

function readUsage(u: any): LlmUsage | null {
  if (!u || typeof u !== 'object') return null
  const input = Number(u.prompt_tokens ?? u.input_tokens ?? 0)
  const output = Number(u.completion_tokens ?? u.output_tokens ?? 0)
  return Number.isFinite(input) && Number.isFinite(output) ? { input, output } : null
}

function finishCalls(raw: Array<{ id: string; name: string; args: string }>): LlmToolCall[] {
  return raw.filter(Boolean).map((c, i) => {
    const { args, error } = parseArguments(c.args)
    return { id: c.id || `call_${i}`, name: c.name, arguments: args, ...(error ? { argumentsError: error } : {}) }
  })
}

function fromJson(llm: ResolvedLlm, j: any): LlmTurn {
  const choice = j?.choices?.[0]
  if (!choice || typeof choice !== 'object') {
    if (j?.error) throw malformed(llm.provider, `error in response: ${String(j.error.message ?? j.error).slice(0, 200)}`)
    throw malformed(llm.provider, 'the response has no choices')
  }
  const msg = choice.message ?? {}
  const calls = Array.isArray(msg.tool_calls)
    ? msg.tool_calls.map((c: any) => ({ id: String(c.id ?? ''), name: String(c.function?.name ?? ''), args: typeof c.function?.arguments === 'string' ? c.function.arguments : JSON.stringify(c.function?.arguments ?? {}) }))
    : []
  return {
    text: typeof msg.content === 'string' ? msg.content : '',
    toolCalls: finishCalls(calls),
    usage: readUsage(j.usage ?? j.x_groq?.usage),
    stopReason: normStop(choice.finish_reason),
  }
}

async function readJson(llm: ResolvedLlm, res: Response): Promise<LlmTurn> {
  const text = await res.text()
  let j: unknown
  if (jsonTooDeep(text)) throw malformed(llm.provider, `the response nests JSON deeper than ${MAX_JSON_DEPTH} levels`)
  try { j = JSON.parse(text) } catch { throw malformed(llm.provider, 'the response is not JSON') }
  return fromJson(llm, j)
}

const post = (llm: ResolvedLlm, req: LlmRequest) =>
  postLlm(llm.url, llm.headers, openaiBody(llm, req), { provider: llm.provider, guard: llm.outbound?.guard, signal: req.signal, deadline: req.deadline, retry: req.retry })

/** One model turn; `onText` gets text as it arrives (once, whole, for a JSON reply). */
export async function openaiTurn(llm: ResolvedLlm, req: LlmRequest, onText?: (text: string) => void): Promise<LlmTurn> {
  const res = await post(llm, req)
  if (!req.stream || !(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const turn = await readJson(llm, res)
    if (turn.text) onText?.(turn.text)
    return turn
  }
  let text = ''
  let usage: LlmUsage | null = null
  let stopReason: string | null = null
  let done = false
  const calls: Array<{ id: string; name: string; args: string }> = []
  await readSse(res, req.signal, (ev) => {
    if (done) return
    if (ev.data === '[DONE]') { done = true; return }
    const j = parseData(llm.provider, ev.data)
    if (j?.error) throw malformed(llm.provider, `error in stream: ${String(j.error.message ?? j.error).slice(0, 200)}`)
    const u = readUsage(j.usage ?? j.x_groq?.usage)
    if (u) usage = u
    const choice = j?.choices?.[0]
    if (!choice) return
    const delta = choice.delta ?? {}
    if (typeof delta.content === 'string' && delta.content) {
      text += delta.content
      onText?.(delta.content)
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const tc of delta.tool_calls) {
        let idx: number = typeof tc.index === 'number' ? tc.index : -1
        if (idx < 0) idx = tc.id && !calls.some((c) => c.id === tc.id) ? calls.length : Math.max(0, calls.findIndex((c) => c.id === tc.id))
        const slot = (calls[idx] ??= { id: '', name: '', args: '' })
        if (tc.id) slot.id = tc.id
        if (tc.function?.name && slot.name !== tc.function.name) slot.name += tc.function.name
        if (tc.function?.arguments !== undefined) slot.args += typeof tc.function.arguments === 'string' ? tc.function.arguments : JSON.stringify(tc.function.arguments)
      }
    }
    if (choice.finish_reason) stopReason = normStop(choice.finish_reason)
  })
  if (!done && !stopReason) throw malformed(llm.provider, 'the stream ended before the answer was complete')
  return { text, toolCalls: finishCalls(calls), usage, stopReason }
}
