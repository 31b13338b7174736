import { jsonTooDeep, MAX_JSON_DEPTH } from '../http/json'
import type Ajv from 'ajv'
import type { ErrorObject, ValidateFunction } from 'ajv'
import { createAjv } from './ajv'
import type { JsonSchema } from './types'

/**
 * JSON Schema validation for tool arguments and JSON output (ajv). Compiled validators are cached by the
 * schema's text; the cache (and ajv's own) is dropped past a bound so a stream of MCP schemas cannot grow it.
 */
const MAX_CACHED = 500
let ajv: Ajv | null = null
const cache = new Map<string, ValidateFunction | null>()

const makeAjv = () => createAjv({ strict: false, allErrors: true, validateFormats: true })

/** A validator for the schema, or null when the schema itself cannot be compiled (then nothing is enforced). */
export function validatorFor(schema: JsonSchema | null | undefined): ValidateFunction | null {
  if (!schema || typeof schema !== 'object') return null
  const key = JSON.stringify(schema)
  if (cache.has(key)) return cache.get(key)!
  if (cache.size >= MAX_CACHED) { cache.clear(); ajv = null }
  let v: ValidateFunction | null = null
  try {
    const { $schema: _ignored, $id: _id, ...rest } = schema as Record<string, unknown>
    v = (ajv ??= makeAjv()).compile(rest)
  } catch {
    v = null
  }
  cache.set(key, v)
  return v
}

export function describeErrors(errors: ErrorObject[] | null | undefined): string {
  if (!errors?.length) return 'invalid value'
  return errors.slice(0, 5).map((e) => {
    const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(root)'
    const extra = e.keyword === 'additionalProperties' ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"`
      : e.keyword === 'enum' ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')})` : ''
    return `${where} ${e.message}${extra}`
  }).join('; ')
}

/** Validates a value; returns null when valid (or the schema is unusable), else a readable error. */
export function validate(schema: JsonSchema | null | undefined, value: unknown): string | null {
  const v = validatorFor(schema)
  if (!v) return null
  return v(value) ? null : describeErrors(v.errors)
}

/** Parses a model's JSON answer, tolerating a fenced ```json block or prose around one JSON value. */
export function parseJsonAnswer(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const candidates: string[] = []
  const t = text.trim()
  const fence = t.match(/```(?:json|JSON)?[ \t]*\r?\n?([\s\S]*?)```/)
  if (fence) candidates.push(fence[1].trim())
  candidates.push(t)
  const start = t.search(/[{[]/)
  if (start >= 0) {
    const close = t[start] === '{' ? '}' : ']'
    const end = t.lastIndexOf(close)
    if (end > start) candidates.push(t.slice(start, end + 1))
  }
  let firstError = ''
  for (const c of candidates) {
    if (!c) continue
    // A model's answer is outside input too: bounded like request bodies before anything recurses on it.
    if (jsonTooDeep(c)) return { ok: false, error: `the answer nests JSON deeper than ${MAX_JSON_DEPTH} levels` }
    try {
      return { ok: true, value: JSON.parse(c) }
    } catch (err) {
      firstError ||= (err as Error).message
    }
  }
  return { ok: false, error: t ? `the answer is not valid JSON (${firstError})` : 'the answer is empty, expected JSON' }
}
