import type { ChatMessage } from '../agent/types'
import type { LlmRequest, LlmToolCall, LlmTurn, LlmUsage, ResolvedLlm } from './types'
import { malformed, parseArguments, parseData, postLlm, readSse } from './http'
import { jsonTooDeep, MAX_JSON_DEPTH } from '../http/json'

/** Anthropic Messages wire format. */

export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096

type Block = Record<string, unknown>

function toWireMessages(messages: ChatMessage[]) {
  const out: Array<{ role: 'user' | 'assistant'; content: Block[] }> = []
  const push = (role: 'user' | 'assistant', blocks: Block[]) => {
    const last = out[out.length - 1]
    if (last && last.role === role) last.content.push(...blocks)
    else out.push({ role, content: blocks })
  }
  for (const m of messages) {
    if (m.role === 'user') push('user', [{ type: 'text', text: m.content }])
    else if (m.role === 'tool') push('user', [{ type: 'tool_result', tool_use_id: m.toolCallId, content: m.content, ...(m.isError ? { is_error: true } : {}) }])
    else {
      const blocks: Block[] = m.content ? [{ type: 'text', text: m.content }] : []
      for (const c of m.toolCalls ?? []) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: c.arguments ?? {} })
      if (blocks.length) push('assistant', blocks)
    }
  }
  // A single plain text block stays a string, the most common shape.
  return out.map((m) => (m.content.length === 1 && m.content[0].type === 'text' ? { role: m.role, content: m.content[0].text } : m))
}

export function anthropicBody(req: LlmRequest) {
  const body: Record<string, unknown> = {
    model: req.model,
    max_tokens: req.maxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
    messages: toWireMessages(req.messages),
    stream: req.stream,
  }
  if (req.system) body.system = req.system
  if (req.tools.length) body.tools = req.tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.inputSchema }))
  if (req.temperature !== undefined && req.temperature !== null) body.temperature = req.temperature
  return body
}

const STOP: Record<string, string> = { end_turn: 'stop', stop_sequence: 'stop', tool_use: 'tool_calls', max_tokens: 'length', refusal: 'content_filter' }
const normStop = (r: unknown) => (typeof r === 'string' && r ? STOP[r] ?? r : null)

const inputTokens = (u: any) => Number(u?.input_tokens ?? 0) + Number(u?.cache_creation_input_tokens ?? 0) + Number(u?.cache_read_input_tokens ?? 0)

function fromJson(llm: ResolvedLlm, j: any): LlmTurn {
  if (!j || !Array.isArray(j.content)) throw malformed(llm.provider, 'the response has no content')
  let text = ''
  const toolCalls: LlmToolCall[] = []
  for (const b of j.content) {
    if (b?.type === 'text') text += String(b.text ?? '')
    else if (b?.type === 'tool_use') {
      const ok = b.input && typeof b.input === 'object' && !Array.isArray(b.input)
      toolCalls.push({ id: String(b.id), name: String(b.name), arguments: ok ? b.input : {}, ...(ok ? {} : { argumentsError: 'arguments must be a JSON object' }) })
    }
  }
  const usage = j.usage ? { input: inputTokens(j.usage), output: Number(j.usage.output_tokens ?? 0) } : null
  return { text, toolCalls, usage, stopReason: normStop(j.stop_reason) }
}

async function readJson(llm: ResolvedLlm, res: Response): Promise<LlmTurn> {
  let j: unknown
  const text = await res.text()
  if (jsonTooDeep(text)) throw malformed(llm.provider, `the response nests JSON deeper than ${MAX_JSON_DEPTH} levels`)
  try { j = JSON.parse(text) } catch { throw malformed(llm.provider, 'the response is not JSON') }
  return fromJson(llm, j)
}

const post = (llm: ResolvedLlm, req: LlmRequest) =>
  postLlm(llm.url, llm.headers, anthropicBody(req), { provider: llm.provider, guard: llm.outbound?.guard, signal: req.signal, deadline: req.deadline, retry: req.retry })

/** One model turn; `onText` gets text as it arrives (once, whole, for a JSON reply). */
export async function anthropicTurn(llm: ResolvedLlm, req: LlmRequest, onText?: (text: string) => void): Promise<LlmTurn> {
  const res = await post(llm, req)
  if (!req.stream || !(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const turn = await readJson(llm, res)
    if (turn.text) onText?.(turn.text)
    return turn
  }
  let text = ''
  let usage: LlmUsage | null = null
  let stopReason: string | null = null
  let stopped = false
  const blocks = new Map<number, { kind: 'text' | 'tool'; id: string; name: string; json: string; input: unknown }>()
  await readSse(res, req.signal, (ev) => {
    if (stopped) return
    const j = parseData(llm.provider, ev.data)
    const type = j?.type ?? ev.event
    switch (type) {
      case 'message_start':
        if (j.message?.usage) usage = { input: inputTokens(j.message.usage), output: Number(j.message.usage.output_tokens ?? 0) }
        break
      case 'content_block_start': {
        const b = j.content_block ?? {}
        blocks.set(Number(j.index), b.type === 'tool_use'
          ? { kind: 'tool', id: String(b.id), name: String(b.name), json: '', input: b.input }
          : { kind: 'text', id: '', name: '', json: '', input: null })
        if (b.type === 'text' && b.text) { text += b.text; onText?.(b.text) }
        break
      }
      case 'content_block_delta': {
        const d = j.delta ?? {}
        if (d.type === 'text_delta' && typeof d.text === 'string' && d.text) {
          text += d.text
          onText?.(d.text)
        } else if (d.type === 'input_json_delta') {
          const b = blocks.get(Number(j.index))
          if (!b || b.kind !== 'tool') throw malformed(llm.provider, 'tool arguments for an unknown content block')
          b.json += String(d.partial_json ?? '')
        }
        break
      }
      case 'message_delta':
        if (j.delta?.stop_reason) stopReason = normStop(j.delta.stop_reason)
        if (j.usage) {
          const prev = usage as LlmUsage | null
          usage = { input: j.usage.input_tokens != null ? inputTokens(j.usage) : prev?.input ?? 0, output: Number(j.usage.output_tokens ?? prev?.output ?? 0) }
        }
        break
      case 'message_stop':
        stopped = true
        break
      case 'error':
        throw malformed(llm.provider, `error in stream: ${String(j.error?.message ?? 'unknown').slice(0, 200)}`)
      default:
        break // ping, content_block_stop, future event types
    }
  })
  if (!stopped) throw malformed(llm.provider, 'the stream ended before message_stop')
  const toolCalls: LlmToolCall[] = []
  for (const [, b] of [...blocks].sort((a, b) => a[0] - b[0])) {
    if (b.kind !== 'tool') continue
    if (b.json) {
      const { args, error } = parseArguments(b.json)
      toolCalls.push({ id: b.id, name: b.name, arguments: args, ...(error ? { argumentsError: error } : {}) })
    } else {
      const ok = b.input && typeof b.input === 'object' && !Array.isArray(b.input)
      toolCalls.push({ id: b.id, name: b.name, arguments: ok ? (b.input as Record<string, unknown>) : {} })
    }
  }
  return { text, toolCalls, usage, stopReason }
}
