import { ApiError } from './errors'

/**
 * The deepest nesting of objects/arrays accepted in any JSON we parse from outside (bodies, model output).
 * Deeper documents are refused before JSON.parse: they are never legitimate here, and recursive code
 * downstream (validation, JSON Schema compilation, stringify) would otherwise overflow the stack.
 */
export const MAX_JSON_DEPTH = 64

/** Linear scan: true when `text` nests objects/arrays deeper than `max` (brackets inside strings skipped). */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) inString = false
    } else if (c === 34) inString = true
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--
  }
  return false
}

export const tooDeep = () => new ApiError(400, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`, 'json_too_deep')

/** JSON.parse under the depth bound; throws tooDeep() (a 400 naming the limit) or SyntaxError. */
export function parseJsonBounded(text: string): unknown {
  if (jsonTooDeep(text)) throw tooDeep()
  return JSON.parse(text)
}
