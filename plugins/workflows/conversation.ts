/**
 * Workflows from chat conversations. Extraction is deterministic: the recorded tool calls of the conversation
 * (chat service) become tool steps in order, and each chosen argument becomes an `{{ input.<name> }}`
 * placeholder whose recorded value is kept as the example input. No model is involved.
 */
import type { Kernel } from '../../src/kernel'
import type { Principal } from '../../src/auth/principal'
import { badRequest } from '../../src/http/errors'
import * as chat from '../chat/service'
import { create } from './service'
import { generate } from './generate'
import { toolNameOf } from './tool-provider'

export function toolCalls(k: Kernel, who: Principal, conversationId: string) {
  chat.requireConversation(k, who, conversationId)
  return chat.listToolCalls(k, who.userId, conversationId).map((c, i) => ({ step_id: `step_${i + 1}`, ...c }))
}

export interface ExtractInput {
  conversation_id: string; workflow_name: string; description?: string; selected_step_ids?: string[]; parameterize_fields?: string[]
  trigger_type?: string; trigger_config?: Record<string, unknown>
}

const VAR = /[^A-Za-z0-9_]+/g

export async function extract(k: Kernel, who: Principal, body: ExtractInput, base?: string) {
  const calls = toolCalls(k, who, body.conversation_id)
  const selected = body.selected_step_ids?.length
    ? calls.filter((c) => body.selected_step_ids!.includes(c.step_id) || body.selected_step_ids!.includes(c.tool_call_id))
    : calls.filter((c) => !c.is_error)
  if (body.selected_step_ids?.length) {
    const unknown = body.selected_step_ids.filter((id) => !calls.some((c) => c.step_id === id || c.tool_call_id === id))
    if (unknown.length) throw badRequest(`selected_step_ids: unknown step "${unknown[0]}" (GET /api/workflows/conversations/${body.conversation_id}/tool-calls lists them)`, { selected_step_ids: `unknown step "${unknown[0]}"` })
  }
  if (!selected.length) throw badRequest('The conversation has no successful tool calls to turn into steps', { conversation_id: 'has no tool calls' })
  // A field is "channel" (every step's channel argument) or "step_2.channel" (one step's).
  const wanted = new Set(body.parameterize_fields ?? [])
  const example: Record<string, unknown> = {}
  const used = new Set<string>()
  const steps = selected.map((c) => {
    const args = (c.arguments && typeof c.arguments === 'object' ? { ...(c.arguments as Record<string, unknown>) } : {}) as Record<string, unknown>
    for (const key of Object.keys(args)) {
      if (!wanted.has(key) && !wanted.has(`${c.step_id}.${key}`)) continue
      let name = key.replace(VAR, '_')
      if (used.has(name) && JSON.stringify(example[name]) !== JSON.stringify(args[key])) name = `${c.step_id}_${name}`
      used.add(name)
      example[name] = args[key]
      args[key] = `{{ input.${name} }}`
    }
    return { id: c.step_id, name: c.name, type: 'tool', tool: c.name, parameters: args }
  })
  const unmatched = [...wanted].filter((f) => !selected.some((c) => {
    const [step, key] = f.includes('.') ? f.split('.', 2) : [null, f]
    return (!step || step === c.step_id) && c.arguments && typeof c.arguments === 'object' && key in (c.arguments as object)
  }))
  if (unmatched.length) throw badRequest(`parameterize_fields: "${unmatched[0]}" is not an argument of the selected tool calls`, { parameterize_fields: `unknown field "${unmatched[0]}"` })
  return create(k, who, {
    name: body.workflow_name, description: body.description ?? `Extracted from conversation ${body.conversation_id}`, steps,
    trigger_type: body.trigger_type ?? 'manual', trigger_config: body.trigger_config ?? {},
    workflow_metadata: { source: 'conversation', conversation_id: body.conversation_id, input_example: example, inputs: Object.keys(example) },
  }, { base })
}

/** POST /api/workflows/chat-agent: a generated workflow, offered as a tool in a new chat conversation. */
export async function chatAgent(k: Kernel, who: Principal, body: { description: string; name?: string | null; workspace_id?: string | null }, base?: string) {
  const wf = await generate(k, who, body, base, { status: 'active', metadata: { expose_as_tool: true } })
  const tool = toolNameOf(wf)
  const conv = chat.create(k, who, {
    title: `Chat: ${wf.name}`, workspace_id: wf.workspace_id,
    system_prompt: `You are an assistant that runs the workflow "${wf.name}" (${wf.description}). When the user asks for it, call the tool ${tool} with the inputs it needs, then report the result.`,
  })
  return { workflow: wf, conversation: chat.conversationView(conv), tool_name: tool }
}
