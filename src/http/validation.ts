/** Rewrites Elysia/TypeBox validation errors into one readable sentence that names the field. */
interface ValueErrorLike { path?: string; message?: string; schema?: any; value?: unknown; summary?: string }

const field = (path: string | undefined) => (path && path !== '/' ? path.replace(/^\//, '').replace(/\//g, '.') : '')

function describe(e: ValueErrorLike): string {
  const s = e.schema ?? {}
  const v = e.value
  if (v === undefined) return 'is required'
  if (s.anyOf && s.anyOf.every((x: any) => 'const' in x)) return `must be one of ${s.anyOf.map((x: any) => JSON.stringify(x.const)).join(', ')}`
  if (s.anyOf) return unionProblem(s.anyOf, v)
  if ('const' in s) return `must be ${JSON.stringify(s.const)}`
  if (s.type === 'string' && typeof v === 'string') {
    if (s.minLength !== undefined && v.length < s.minLength) return s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength} characters`
    if (s.maxLength !== undefined && v.length > s.maxLength) return `must be at most ${s.maxLength} characters`
    if (s.format) return `must be a valid ${s.format}`
    if (s.pattern) return `must match ${s.pattern}`
  }
  if ((s.type === 'integer' || s.type === 'number') && typeof v === 'number') {
    if (s.type === 'integer' && !Number.isInteger(v)) return 'must be an integer'
    if (s.minimum !== undefined && v < s.minimum) return `must be at least ${s.minimum}`
    if (s.maximum !== undefined && v > s.maximum) return `must be at most ${s.maximum}`
  }
  if (s.type === 'array' && Array.isArray(v)) {
    if (s.maxItems !== undefined && v.length > s.maxItems) return `must have at most ${s.maxItems} items`
    if (s.minItems !== undefined && v.length < s.minItems) return `must have at least ${s.minItems} items`
  }
  if (s.type === 'object' && v && typeof v === 'object' && s.additionalProperties === false) return 'has an unknown property'
  if (s.type) return `must be ${article(s.type)}`
  return (e.message ?? 'is invalid').replace(/^Expected/, 'must be').toLowerCase()
}

/** Unions: query numbers (Elysia's numeric string | number), nullable fields, alternatives. */
function unionProblem(branches: any[], v: unknown): string {
  const numeric = branches.find((b) => b.type === 'integer' || b.type === 'number')
  if (numeric) {
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v
    if (typeof n === 'number' && !Number.isNaN(n)) return describe({ schema: numeric, value: n })
    return `must be ${article(numeric.type)}`
  }
  const concrete = branches.filter((b) => b.type && b.type !== 'null')
  if (concrete.length === 1) {
    const inner = describe({ schema: concrete[0], value: v })
    return branches.some((b) => b.type === 'null') && inner.startsWith('must be a') && !inner.includes(' valid ') ? `${inner} or null` : inner
  }
  const types = [...new Set(branches.map((b) => b.type).filter(Boolean))]
  return types.length ? `must be ${types.map(article).join(' or ')}` : 'is invalid'
}

const article = (type: string | string[]) => {
  const t = Array.isArray(type) ? type.join(' or ') : type
  if (t === 'integer') return 'an integer'
  if (t === 'object') return 'a JSON object'
  if (t === 'array') return 'an array'
  return `a ${t}`
}

export interface ReadableValidation { message: string; details: Record<string, string>; wrongType: boolean }

/** `on` is body | query | params | headers; `errors` are TypeBox ValueErrors (first is reported). */
export function readableValidation(on: string, errors: ValueErrorLike[]): ReadableValidation {
  const details: Record<string, string> = {}
  for (const e of errors) {
    const name = field(e.path) || on
    if (!(name in details)) details[name] = describe(e)
  }
  const first = errors[0] ?? {}
  const name = field(first.path)
  const where = on === 'body' ? '' : on === 'query' ? 'query parameter ' : on === 'params' ? 'path parameter ' : `${on} `
  const wrongType = on === 'body' && !name && typeof first.value !== 'object'
  const missingBody = on === 'body' && !name && (first.value === undefined || first.value === null)
  if (missingBody) details.body = 'is required'
  const message = name ? `${where}${name} ${describe(first)}` : missingBody ? 'request body is required' : on === 'body' ? `request body ${describe(first)}` : `${on} ${describe(first)}`
  return { message: message.charAt(0).toUpperCase() + message.slice(1), details, wrongType }
}
