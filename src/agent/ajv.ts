import type Ajv from 'ajv'
import type { Options, ValidateFunction } from 'ajv'
import type { JsonSchema } from './types'

/**
 * The one ajv wrapper. Two profiles, because the two uses want different strictness:
 * - `output`: a model's JSON answer and user-given output schemas (all errors, formats validated);
 * - `arguments`: tool arguments against schemas MCP servers and platforms declare (first error only, no schema
 *   validation: servers declare various drafts, and the keywords that matter are shared).
 * Compiled validators are cached by the schema's text, bounded so a stream of distinct schemas cannot grow memory.
 * ajv is required on first use, not imported: most requests never validate, and loading it at start-up costs
 * idle memory (bench/RESULTS.md).
 */
export type SchemaProfile = 'output' | 'arguments'

const OPTIONS: Record<SchemaProfile, Options> = {
  output: { strict: false, allErrors: true, validateFormats: true },
  arguments: { allErrors: false, strict: false, validateSchema: false, coerceTypes: false },
}
const MAX_CACHED = 1000
const instances = new Map<SchemaProfile, Ajv>()
const caches = new Map<SchemaProfile, Map<string, ValidateFunction | null>>()

export function createAjv(opts: Options): Ajv {
  const AjvClass = require('ajv').default as typeof Ajv
  const addFormats = require('ajv-formats').default as (a: Ajv) => Ajv
  const a = new AjvClass(opts)
  addFormats(a)
  return a
}

/** A validator for `schema` under `profile`, or null when the schema itself cannot be compiled (nothing is enforced). */
export function compileSchema(schema: JsonSchema | null | undefined, profile: SchemaProfile): ValidateFunction | null {
  if (!schema || typeof schema !== 'object') return null
  let cache = caches.get(profile)
  if (!cache) caches.set(profile, (cache = new Map()))
  const key = JSON.stringify(schema)
  const hit = cache.get(key)
  if (hit !== undefined) return hit
  if (cache.size >= MAX_CACHED) { cache.clear(); instances.delete(profile) } // ajv keeps its own copies: drop both
  let ajv = instances.get(profile)
  if (!ajv) instances.set(profile, (ajv = createAjv(OPTIONS[profile])))
  let fn: ValidateFunction | null
  try {
    const { $schema: _ignored, $id: _id, ...rest } = schema as Record<string, unknown>
    fn = ajv.compile(rest)
  } catch {
    fn = null
  }
  cache.set(key, fn)
  return fn
}
