/**
 * Route schemas (TypeBox, i.e. JSON Schema with symbols) as OpenAPI 3.1 Schema Objects: plain JSON, only
 * standard keywords, and without the shapes Elysia adds for coercion (a query number is also accepted as a
 * string on the wire: the document says number, which is what a client should send).
 */
type Json = Record<string, any>

const KEYWORDS = new Set([
  'type', 'properties', 'required', 'additionalProperties', 'items', 'prefixItems', 'anyOf', 'oneOf', 'allOf', 'not',
  'enum', 'const', 'format', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum',
  'exclusiveMaximum', 'multipleOf', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties',
  'description', 'title', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly', 'contentMediaType',
  'patternProperties', 'propertyNames', 'dependentRequired',
])

/** Formats Elysia puts on the string branch of a coerced number/boolean/object in query, params and headers. */
const COERCION_FORMATS = new Set(['numeric', 'integer', 'boolean', 'ObjectString', 'ArrayString'])
const isCoercionBranch = (s: Json) => s && s.type === 'string' && COERCION_FORMATS.has(s.format)

const ANY_KEY = /^\^\(\.\*\)\$$|^\^\.\*\$$/

export function cleanSchema(input: unknown): Json {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return {}
  const s = input as Json
  // A coerced value: keep the real type (the branch that is not the string spelling of it).
  if (Array.isArray(s.anyOf) && s.anyOf.some(isCoercionBranch)) {
    const rest = s.anyOf.filter((b: Json) => !isCoercionBranch(b))
    const { anyOf: _drop, ...outer } = s
    if (rest.length === 1) return cleanSchema({ ...outer, ...rest[0] })
    return cleanSchema({ ...outer, anyOf: rest })
  }
  const out: Json = {}
  for (const [key, value] of Object.entries(s)) {
    if (!KEYWORDS.has(key)) continue
    switch (key) {
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, cleanSchema(v)]))
        break
      case 'patternProperties': {
        // t.Record(t.String(), X): any key, i.e. additionalProperties (what generators understand).
        const entries = Object.entries(value as Json)
        if (entries.length === 1 && ANY_KEY.test(entries[0][0])) out.additionalProperties = cleanSchema(entries[0][1])
        else out.patternProperties = Object.fromEntries(entries.map(([k, v]) => [k, cleanSchema(v)]))
        break
      }
      case 'items':
      case 'not':
        out[key] = Array.isArray(value) ? value.map(cleanSchema) : cleanSchema(value)
        break
      case 'additionalProperties':
        out[key] = typeof value === 'boolean' ? value : cleanSchema(value)
        break
      case 'anyOf':
      case 'oneOf':
      case 'allOf':
      case 'prefixItems':
        out[key] = (value as unknown[]).map(cleanSchema)
        break
      case 'required':
        if (Array.isArray(value) && value.length) out.required = [...value]
        break
      case 'examples':
        out.examples = Array.isArray(value) ? value : [value]
        break
      default:
        out[key] = value
    }
  }
  // An object that is nothing but "any properties": say so plainly.
  if (out.type === 'object' && !out.properties && out.additionalProperties === undefined && !out.patternProperties) out.additionalProperties = true
  return out
}

/** A TypeBox schema marked optional (t.Optional), e.g. a body that may be absent. */
export const isOptionalSchema = (s: unknown) => !!s && typeof s === 'object' && (s as any)[Symbol.for('TypeBox.Optional')] === 'Optional'

/** TypeBox's marker that a value is a schema (not a status -> schema map). */
export const isSchema = (s: unknown) => !!s && typeof s === 'object' && Symbol.for('TypeBox.Kind') in (s as object)
