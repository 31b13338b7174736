/**
 * Natural-language generation (POST /api/workflows): the caller's default model turns a description into
 * steps, tool mapping and variable wiring; the answer is validated against the workflow schema, the live tool
 * catalog and each tool's parameter schema, with one repair turn that hands the problems back. Saved as draft.
 */
import type { Kernel } from '../../src/kernel'
import type { Principal } from '../../src/auth/principal'
import { ApiError } from '../../src/http/errors'
import * as workspaces from '../workspaces/service'
import { callModel } from './llm'
import { create, toolInfo } from './service'
import { stepProblems, triggerProblems, type Problems, type ToolInfo } from './validate'
import { STEP_TYPES, TRIGGER_TYPES } from './types'

const MAX_TOOLS_IN_PROMPT = 80

function toolLines(tools: Map<string, ToolInfo>): string {
  return [...tools.values()].slice(0, MAX_TOOLS_IN_PROMPT).map((t) => {
    const s = t.inputSchema as { properties?: Record<string, { type?: string; description?: string }>; required?: string[] }
    const params = Object.entries(s.properties ?? {}).map(([n, p]) => `${n}${s.required?.includes(n) ? '*' : ''}:${p.type ?? 'any'}`).join(', ')
    return `- ${t.name}(${params})${t.available ? '' : ' [needs a connection]'}`
  }).join('\n')
}

export function systemPrompt(tools: Map<string, ToolInfo>): string {
  return `You design automation workflows. Answer with ONE JSON object and nothing else:
{"name": "short name", "description": "...", "trigger_type": one of ${TRIGGER_TYPES.map((t) => `"${t}"`).join('|')}, "trigger_config": {}, "variables": {}, "steps": [...]}
Each step: {"id": "snake_id", "name": "...", "type": one of ${STEP_TYPES.join('|')}, ...}. By type:
- tool: "tool" (a name from the list below, exactly), "parameters" (object; every parameter marked * is required)
- llm: "prompt"; optional "output_schema" (JSON schema)
- condition: "condition": {"left": "{{ steps.x.field }}", "operator": "==|!=|>|>=|<|<=|contains|not_contains|starts_with|ends_with|in|exists|empty|matches", "right": value}, "on_true"/"on_false": step ids
- transform: "template" (any JSON with placeholders) or "expression" (CEL)
- delay: "duration" like "5m"; loop: "items": "{{ input.list }}", "step": {a tool, llm or transform step using {{ each.item }} and {{ each.index }}}
Optional on every step: "retry": {"max_attempts": 3, "backoff": "exponential", "initial_ms": 1000}, "timeout_ms", "continue_on_error", "output_key".
Wire data with placeholders {{ input.<name> }} (execution input), {{ steps.<step id>.<field> }} (earlier outputs), {{ vars.<name> }} (the "variables" object).
Tools (name(parameters), * = required):
${tools.size ? toolLines(tools) : '(none: use llm and transform steps only)'}`
}

/** The JSON object in a model's answer (bare, or inside a ``` fence). */
export function parseAnswer(text: string): Record<string, unknown> | null {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text)
  const body = (fenced ? fenced[1] : text).trim()
  const start = body.indexOf('{')
  const end = body.lastIndexOf('}')
  if (start < 0 || end < start) return null
  try {
    const v = JSON.parse(body.slice(start, end + 1))
    return v && typeof v === 'object' && !Array.isArray(v) ? v : null
  } catch { return null }
}

export function problemsOf(w: Record<string, unknown> | null, tools: Map<string, ToolInfo>): Problems {
  if (!w) return { answer: 'is not a JSON object' }
  const p: Problems = { ...triggerProblems(w.trigger_type, w.trigger_config), ...stepProblems(w.steps, tools) }
  if (Array.isArray(w.steps) && w.steps.length === 0) p.steps = 'must have at least one step'
  if (w.variables !== undefined && (typeof w.variables !== 'object' || Array.isArray(w.variables) || w.variables === null)) p.variables = 'must be an object'
  return p
}

const fallbackName = (description: string) => {
  const words = description.replace(/[^\p{L}\p{N}\s]/gu, ' ').split(/\s+/).filter((w) => w.length > 2).slice(0, 5)
  return words.length ? words.map((w) => w[0].toUpperCase() + w.slice(1)).join(' ') : 'Generated workflow'
}

export async function generate(k: Kernel, who: Principal, body: { description: string; name?: string | null; workspace_id?: string | null }, base?: string,
  opts: { status?: string; metadata?: Record<string, unknown> } = {}) {
  const wsId = body.workspace_id ?? who.workspaceId ?? null
  if (wsId) workspaces.requireOwned(k, who, wsId)
  const tools = await toolInfo(k, who.userId, wsId)
  const system = systemPrompt(tools)
  let message = `Build a workflow for: ${body.description}`
  let problems: Problems = {}
  let answer: Record<string, unknown> | null = null
  for (let turn = 0; turn < 2; turn++) {
    const r = await callModel(k, { ownerId: who.userId, systemPrompt: system, message, temperature: 0.2 })
    if (!r.ok) throw new ApiError(r.status && r.status >= 400 && r.status < 500 ? r.status : 502, `Workflow generation failed: ${r.error}`, r.code ?? 'upstream_failed')
    answer = parseAnswer(r.text)
    problems = problemsOf(answer, tools)
    if (!Object.keys(problems).length) break
    // One repair turn: the previous answer and every problem go back to the model.
    message = `Build a workflow for: ${body.description}\n\nYour previous answer was:\n${r.text.slice(0, 20_000)}\n\nIt has these problems:\n${
      Object.entries(problems).map(([f, m]) => `- ${f}: ${m}`).join('\n')}\nAnswer again with the corrected JSON object only.`
  }
  if (Object.keys(problems).length) {
    throw new ApiError(422, `The generated workflow is not valid after a repair turn: ${Object.entries(problems).slice(0, 3).map(([f, m]) => `${f} ${m}`).join('; ')}`, 'generation_failed', problems)
  }
  const w = answer!
  const name = body.name?.trim() || (typeof w.name === 'string' && w.name.trim() ? w.name.trim().slice(0, 80) : fallbackName(body.description))
  return create(k, who, {
    name, description: body.description, status: opts.status ?? 'draft', trigger_type: (w.trigger_type as string) ?? 'manual',
    trigger_config: (w.trigger_config as Record<string, unknown>) ?? {}, variables: (w.variables as Record<string, unknown>) ?? {},
    steps: w.steps as unknown[], workflow_metadata: { generated: true, generator: 'nl', summary: typeof w.description === 'string' ? w.description : null, ...opts.metadata },
    workspace_id: wsId,
  }, { base })
}
