import type { LlmToolCall } from '../llm/index'
import { validate } from './schema'
import type { AgentSpec, ChatMessage, RunEvent, RunResult, ToolDefinition, ToolResult } from './types'

/** Tool calls of one model turn: argument validation, concurrent execution, results for the model and the stream. */

/** Longest tool result the model sees; longer ones are cut with a note. */
export const MAX_TOOL_CONTENT = 100_000
/** Longest tool result carried in a `tool.completed` event. */
export const MAX_EVENT_RESULT = 2_000

interface Done { i: number; content: string; isError: boolean; latency: number }

/** Runs one turn's tool calls concurrently; emits tool.started, tool.progress and tool.completed as they happen. */
export async function runTools(
  spec: AgentSpec, runId: string, calls: LlmToolCall[], byName: Map<string, ToolDefinition>,
  signal: AbortSignal, aborted: () => Promise<never>, convo: ChatMessage[], result: RunResult, emit: (e: RunEvent) => void,
): Promise<void> {
  let live = true
  for (const c of calls) emit({ type: 'tool.started', run_id: runId, call_id: c.id, tool: c.name, arguments: c.arguments })
  const done: Done[] = []
  const all = Promise.all(calls.map(async (c, i) => {
    const start = performance.now()
    const r = await callTool(spec, runId, c, byName, signal, (p) => {
      if (live) emit({ type: 'tool.progress', run_id: runId, call_id: c.id, tool: c.name, ...p })
    })
    const d: Done = { i, content: r.content, isError: !!r.isError, latency: Math.round(performance.now() - start) }
    if (!live) return
    done.push(d)
    emit({
      type: 'tool.completed', run_id: runId, call_id: c.id, tool: c.name, success: !d.isError, latency_ms: d.latency,
      ...(d.isError ? { error: d.content.slice(0, MAX_EVENT_RESULT) } : { result: d.content.slice(0, MAX_EVENT_RESULT) }),
    })
  }))
  try {
    await Promise.race([all, aborted()])
  } finally {
    live = false
  }
  done.sort((a, b) => a.i - b.i)
  for (const d of done) {
    const c = calls[d.i]
    result.tool_calls.push({ tool: c.name, success: !d.isError, latency_ms: d.latency })
    const msg: ChatMessage = { role: 'tool', toolCallId: c.id, name: c.name, content: d.content, ...(d.isError ? { isError: true } : {}) }
    convo.push(msg)
    result.messages.push(msg)
  }
}

/** Never rejects: invalid arguments, unknown tools and tool failures become error results the model sees. */
async function callTool(
  spec: AgentSpec, runId: string, c: LlmToolCall, byName: Map<string, ToolDefinition>, signal: AbortSignal,
  onProgress: (p: { progress: number; total?: number; message?: string }) => void,
): Promise<ToolResult> {
  const def = byName.get(c.name)
  if (!def || !spec.tools) {
    const names = [...byName.keys()]
    return { content: `Unknown tool "${c.name}".${names.length ? ` Available tools: ${names.join(', ')}` : ' No tools are available.'}`, isError: true }
  }
  if (c.argumentsError) return { content: `Invalid arguments for ${c.name}: ${c.argumentsError}`, isError: true }
  const invalid = validate(def.inputSchema, c.arguments)
  if (invalid) return { content: `Invalid arguments for ${c.name}: ${invalid}`, isError: true }
  try {
    const r = await spec.tools.call(c.name, c.arguments, { signal, ownerId: spec.ownerId, runId, surface: spec.surface, onProgress })
    const content = typeof r?.content === 'string' ? r.content : JSON.stringify(r?.content ?? '')
    return {
      ...r,
      content: content.length > MAX_TOOL_CONTENT ? `${content.slice(0, MAX_TOOL_CONTENT)}\n[truncated: ${content.length} characters in all]` : content,
    }
  } catch (err) {
    return { content: `Tool ${c.name} failed: ${(err as Error)?.message ?? String(err)}`, isError: true }
  }
}

