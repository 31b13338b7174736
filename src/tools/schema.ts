import type Ajv from 'ajv'
import type { ErrorObject, ValidateFunction } from 'ajv'
import { createAjv } from '../agent/ajv'
import { ApiError } from '../http/errors'
import type { JsonSchema } from '../agent/types'

let ajv: Ajv | null = null

/** Compiled validators by schema text; bounded so a flood of distinct schemas cannot grow memory. */
const cache = new Map<string, ValidateFunction | null>()
const MAX_CACHED = 1000

function compile(schema: JsonSchema): ValidateFunction | null {
  const key = JSON.stringify(schema)
  if (cache.has(key)) return cache.get(key)!
  let fn: ValidateFunction | null
  try {
    // Servers declare various drafts; the keywords that matter are shared, so validate without `$schema`.
    const { $schema: _ignored, ...rest } = schema as Record<string, unknown>
    fn = (ajv ??= createAjv({ allErrors: false, strict: false, validateSchema: false, coerceTypes: false })).compile(rest)
  } catch {
    fn = null // an unusable schema: the tool itself validates
  }
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!)
  cache.set(key, fn)
  return fn
}

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
