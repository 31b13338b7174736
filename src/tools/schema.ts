import type { ErrorObject } from 'ajv'
import { compileSchema } from '../agent/ajv'
import { ApiError } from '../http/errors'
import type { JsonSchema } from '../agent/types'

/** Tool arguments against their tool's schema (the `arguments` profile of the one ajv wrapper). */
const compile = (schema: JsonSchema) => compileSchema(schema, 'arguments')

const pathOf = (e: ErrorObject) => {
  const base = e.instancePath.replace(/^\//, '').replace(/\//g, '.').replace(/~1/g, '/').replace(/~0/g, '~')
  if (e.keyword === 'required') return base ? `${base}.${e.params.missingProperty}` : String(e.params.missingProperty)
  if (e.keyword === 'additionalProperties') return base ? `${base}.${e.params.additionalProperty}` : String(e.params.additionalProperty)
  return base
}

function describe(e: ErrorObject): string {
  switch (e.keyword) {
    case 'required': return 'is required'
    case 'additionalProperties': return 'is not an allowed argument'
    case 'enum': return `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
    case 'type': return `must be ${e.params.type === 'integer' || e.params.type === 'object' || e.params.type === 'array' ? (e.params.type === 'integer' ? 'an integer' : e.params.type === 'object' ? 'an object' : 'an array') : `a ${e.params.type}`}`
    default: return e.message ?? 'is invalid'
  }
}

/** The first schema violation as `{ path, problem }` (path dotted, e.g. `labels.0`), or null when valid. */
export function schemaError(schema: JsonSchema | undefined, value: unknown): { path: string; problem: string } | null {
  if (!schema) return null
  const fn = compile(schema)
  if (!fn || fn(value)) return null
  const e = fn.errors![0]
  return { path: pathOf(e), problem: describe(e) }
}

/**
 * Validates tool arguments against the tool's JSON Schema. Throws a 400 naming the first bad path:
 * `Invalid arguments for slack_send_message: channel is required`.
 */
export function validateArgs(tool: string, schema: JsonSchema | undefined, args: unknown) {
  if (!args || typeof args !== 'object' || Array.isArray(args)) throw new ApiError(400, `Invalid arguments for ${tool}: arguments must be a JSON object`, 'invalid_arguments', { arguments: 'must be an object' })
  const err = schemaError(schema, args)
  if (!err) return
  const path = err.path || 'arguments'
  throw new ApiError(400, `Invalid arguments for ${tool}: ${path} ${err.problem}`, 'invalid_arguments', { [path]: err.problem })
}
