import type Ajv from 'ajv'
import type { Options } from 'ajv'

/**
 * An ajv instance with formats. ajv is required on first use, not imported: most requests never
 * validate a schema, and loading it at start-up costs idle memory (bench/RESULTS.md).
 */
export function createAjv(opts: Options): Ajv {
  const AjvClass = require('ajv').default as typeof Ajv
  const addFormats = require('ajv-formats').default as (a: Ajv) => Ajv
  const a = new AjvClass(opts)
  addFormats(a)
  return a
}
