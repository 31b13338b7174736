import type { ErrorObject, ValidateFunction } from 'ajv'
import { compileSchema } from './ajv'
import type { JsonSchema } from './types'

/** JSON Schema validation for JSON output and output schemas (the `output` profile of the one ajv wrapper). */

/** A validator for the schema, or null when the schema itself cannot be compiled (then nothing is enforced). */
export const validatorFor = (schema: JsonSchema | null | undefined): ValidateFunction | null => compileSchema(schema, 'output')

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
    try {
      return { ok: true, value: JSON.parse(c) }
    } catch (err) {
      firstError ||= (err as Error).message
    }
  }
  return { ok: false, error: t ? `the answer is not valid JSON (${firstError})` : 'the answer is empty, expected JSON' }
}
