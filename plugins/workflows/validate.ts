/**
 * Workflow validation: the step schema, references between steps, expressions that must compile, and
 * (with a catalog) tools that exist and parameters that fit each tool's schema. Problems are collected as
 * `{ "<field>": "<problem>" }` so that NL generation can hand them back to the model in its repair turn.
 */
import { compile, parsePath, placeholders } from '../../src/expr/index'
import type { JsonSchema } from '../../src/agent/types'
import { badRequest } from '../../src/http/errors'
import { DEFAULT_LOOP_ITEMS, END, MAX_DELAY_MS, MAX_LOOP_ITEMS, MAX_STEPS, MAX_TIMEOUT_MS, STEP_TYPES, TRIGGER_TYPES, type Step } from './types'
import { parseDuration } from './retry'

const ID = /^[A-Za-z0-9_-]{1,64}$/
const KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])
const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v)

export interface ToolInfo { name: string; inputSchema: JsonSchema; available: boolean; platform?: string }
export type Problems = Record<string, string>

function checkRetry(r: unknown, at: string, p: Problems) {
  if (r === undefined) return
  if (!isObj(r)) { p[at] = 'must be an object'; return }
  const int = (f: string, min: number, max: number) => {
    const v = r[f]
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)) p[`${at}.${f}`] = `must be an integer from ${min} to ${max}`
  }
  int('max_attempts', 1, 10)
  int('initial_ms', 0, 3_600_000)
  int('max_ms', 0, 86_400_000)
  if (r.backoff !== undefined && r.backoff !== 'constant' && r.backoff !== 'exponential') p[`${at}.backoff`] = 'must be "constant" or "exponential"'
  if (r.jitter !== undefined && typeof r.jitter !== 'boolean' && !(typeof r.jitter === 'number' && r.jitter >= 0 && r.jitter <= 1)) p[`${at}.jitter`] = 'must be a boolean or a number from 0 to 1'
  if (r.retry_if !== undefined) {
    if (typeof r.retry_if !== 'string') p[`${at}.retry_if`] = 'must be a CEL expression string'
    else try { compile(r.retry_if) } catch (err) { p[`${at}.retry_if`] = (err as Error).message }
  }
}

function checkPlaceholders(v: unknown, at: string, p: Problems, extraRoots: string[]) {
  for (const path of placeholders(v)) {
    let segs: Array<string | number>
    try { segs = parsePath(path) } catch { continue } // not a path: stays literal text at run time
    if (!['input', 'steps', 'vars', 'trigger', ...extraRoots].includes(String(segs[0]))) p[at] = `placeholder "{{ ${path} }}" must start with input, steps, vars or trigger${extraRoots.length ? ` or ${extraRoots.join(', ')}` : ''}`
  }
}

function checkParams(tool: ToolInfo, params: unknown, at: string, p: Problems) {
  if (params !== undefined && !isObj(params)) { p[at] = 'must be an object'; return }
  const given = (params ?? {}) as Record<string, unknown>
  const schema = tool.inputSchema as { properties?: Record<string, unknown>; required?: string[]; additionalProperties?: unknown }
  for (const r of schema.required ?? []) if (!(r in given)) p[`${at}.${r}`] = `is required by tool "${tool.name}"`
  if (schema.additionalProperties === false && schema.properties) {
    for (const key of Object.keys(given)) if (!(key in schema.properties)) p[`${at}.${key}`] = `is not a parameter of tool "${tool.name}" (it takes ${Object.keys(schema.properties).join(', ') || 'none'})`
  }
}

function checkStep(s: unknown, at: string, ids: Set<string>, p: Problems, tools: Map<string, ToolInfo> | null, nested: boolean) {
  if (!isObj(s)) { p[at] = 'must be an object'; return }
  if (typeof s.id !== 'string' || !ID.test(s.id)) p[`${at}.id`] = 'must be 1-64 characters of A-Za-z0-9_-'
  if (s.name !== undefined && (typeof s.name !== 'string' || s.name.length > 200)) p[`${at}.name`] = 'must be a string of at most 200 characters'
  if (!STEP_TYPES.includes(s.type as never)) { p[`${at}.type`] = `must be one of ${STEP_TYPES.join(', ')}`; return }
  checkRetry(s.retry, `${at}.retry`, p)
  if (s.timeout_ms !== undefined && (typeof s.timeout_ms !== 'number' || !Number.isInteger(s.timeout_ms) || s.timeout_ms < 1 || s.timeout_ms > MAX_TIMEOUT_MS)) p[`${at}.timeout_ms`] = `must be an integer from 1 to ${MAX_TIMEOUT_MS}`
  if (s.continue_on_error !== undefined && typeof s.continue_on_error !== 'boolean') p[`${at}.continue_on_error`] = 'must be a boolean'
  if (s.output_key !== undefined && (typeof s.output_key !== 'string' || !KEY.test(s.output_key) || FORBIDDEN_KEYS.has(s.output_key))) p[`${at}.output_key`] = 'must be a name of letters, digits and _'
  const ref = (f: string) => {
    const v = s[f]
    if (v === undefined || v === null) return
    if (nested) p[`${at}.${f}`] = 'is not allowed inside a loop'
    else if (typeof v !== 'string' || (v !== END && !ids.has(v))) p[`${at}.${f}`] = `must be the id of a step of this workflow or "${END}"`
  }
  ref('next')
  const roots = nested ? ['each'] : []
  switch (s.type) {
    case 'tool': {
      if (typeof s.tool !== 'string' || !s.tool) { p[`${at}.tool`] = 'is required (a tool name from GET /api/mcp/tools)'; break }
      checkPlaceholders(s.parameters, `${at}.parameters`, p, roots)
      if (tools) {
        const t = tools.get(s.tool)
        if (!t) p[`${at}.tool`] = `unknown tool "${s.tool}"`
        else checkParams(t, s.parameters, `${at}.parameters`, p)
      } else if (s.parameters !== undefined && !isObj(s.parameters)) p[`${at}.parameters`] = 'must be an object'
      break
    }
    case 'llm':
      if (typeof s.prompt !== 'string' || !s.prompt.trim()) p[`${at}.prompt`] = 'is required'
      else checkPlaceholders(s.prompt, `${at}.prompt`, p, roots)
      if (s.output_schema !== undefined && !isObj(s.output_schema)) p[`${at}.output_schema`] = 'must be a JSON schema object'
      break
    case 'condition':
      if (nested) { p[`${at}.type`] = 'a condition cannot be inside a loop'; break }
      if (s.condition === undefined && typeof s.expression !== 'string') p[`${at}.condition`] = 'is required ({ left, operator, right } or an expression)'
      if (typeof s.expression === 'string') try { compile(s.expression) } catch (err) { p[`${at}.expression`] = (err as Error).message }
      if (typeof s.condition === 'string') try { compile(s.condition) } catch (err) { p[`${at}.condition`] = (err as Error).message }
      ref('on_true'); ref('on_false')
      break
    case 'transform':
      if (typeof s.expression === 'string') { try { compile(s.expression) } catch (err) { p[`${at}.expression`] = (err as Error).message } }
      else if (s.template === undefined) p[`${at}.expression`] = 'a transform needs an expression (CEL) or a template'
      else checkPlaceholders(s.template, `${at}.template`, p, roots)
      break
    case 'delay': {
      if (nested) { p[`${at}.type`] = 'a delay cannot be inside a loop'; break }
      const given = [s.duration_ms, s.duration, s.until].filter((v) => v !== undefined).length
      if (given !== 1) { p[`${at}.duration`] = 'give exactly one of duration_ms, duration ("30s", "5m", "PT1H") or until (ISO time)'; break }
      if (s.duration_ms !== undefined && (typeof s.duration_ms !== 'number' || s.duration_ms < 0 || s.duration_ms > MAX_DELAY_MS)) p[`${at}.duration_ms`] = `must be from 0 to ${MAX_DELAY_MS}`
      if (s.duration !== undefined && (typeof s.duration !== 'string' || parseDuration(s.duration) === null)) p[`${at}.duration`] = 'must look like "30s", "5m", "2h", "1d" or "PT1H30M"'
      if (s.until !== undefined && (typeof s.until !== 'string' || (!s.until.includes('{{') && isNaN(Date.parse(s.until))))) p[`${at}.until`] = 'must be an ISO 8601 time or a placeholder'
      break
    }
    case 'loop':
      if (nested) { p[`${at}.type`] = 'loops cannot be nested'; break }
      if (s.items === undefined) p[`${at}.items`] = 'is required (a list or a placeholder such as "{{ input.rows }}")'
      if (s.max_items !== undefined && (typeof s.max_items !== 'number' || !Number.isInteger(s.max_items) || s.max_items < 1 || s.max_items > MAX_LOOP_ITEMS)) p[`${at}.max_items`] = `must be an integer from 1 to ${MAX_LOOP_ITEMS} (default ${DEFAULT_LOOP_ITEMS})`
      if (!isObj(s.step)) p[`${at}.step`] = 'is required: the step run for each item (tool, llm or transform)'
      else if (!['tool', 'llm', 'transform'].includes(String(s.step.type))) p[`${at}.step.type`] = 'must be tool, llm or transform'
      else checkStep({ id: s.id, ...s.step }, `${at}.step`, ids, p, tools, true)
      break
  }
}

/** Problems of a steps array ({} when fine). `tools` null skips catalog checks. */
export function stepProblems(steps: unknown, tools: Map<string, ToolInfo> | null): Problems {
  const p: Problems = {}
  if (!Array.isArray(steps)) return { steps: 'must be an array' }
  if (steps.length > MAX_STEPS) return { steps: `must have at most ${MAX_STEPS} steps` }
  const ids = new Set<string>()
  steps.forEach((s, i) => {
    if (isObj(s) && typeof s.id === 'string') {
      if (ids.has(s.id)) p[`steps[${i}].id`] = `duplicates "${s.id}"`
      if (s.id === END) p[`steps[${i}].id`] = `"${END}" is reserved`
      ids.add(s.id)
    }
  })
  steps.forEach((s, i) => checkStep(s, `steps[${i}]`, ids, p, tools, false))
  if (JSON.stringify(steps).length > 512 * 1024) p.steps = 'must be at most 512 KB of JSON'
  return p
}

export function triggerProblems(type: unknown, config: unknown): Problems {
  const p: Problems = {}
  if (type !== undefined && !TRIGGER_TYPES.includes(type as never)) p.trigger_type = `must be one of ${TRIGGER_TYPES.join(', ')}`
  if (config !== undefined && !isObj(config)) p.trigger_config = 'must be an object'
  if (type === 'event' && isObj(config) && typeof config.event !== 'string') p['trigger_config.event'] = 'is required for an event trigger (an event name from GET /api/webhooks/events)'
  return p
}

export function throwProblems(p: Problems) {
  const keys = Object.keys(p)
  if (keys.length) throw badRequest(`${keys[0]} ${p[keys[0]]}${keys.length > 1 ? ` (and ${keys.length - 1} more problem${keys.length > 2 ? 's' : ''})` : ''}`, p)
}

/** Steps as stored: ids and types checked, so the engine can trust them. */
export const asSteps = (v: unknown) => v as Step[]
