/**
 * Structured conditions: `{ left, operator, right }` leaves combined with `{ and: [...] }`, `{ or: [...] }`,
 * `{ not: c }`, or `{ expression: "<CEL>" }`. `left` and `right` are values with `{{ path }}` placeholders
 * (a bare path string such as "input.amount" is read as a path too). No eval: operators are a fixed table.
 */
import { evaluateBool, unsafePattern } from './cel'
import { ExprError, substitute } from './substitute'

export const OPERATORS = ['==', '!=', '>', '>=', '<', '<=', 'contains', 'not_contains', 'starts_with', 'ends_with', 'in', 'exists', 'empty', 'matches'] as const
export type Operator = typeof OPERATORS[number]
const MATCH_INPUT_MAX = 10_000

export interface ConditionOutcome { result: boolean; evaluated_value: unknown; expected_value: unknown; operator: string }

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v)
const BARE_PATH = /^(input|steps|vars|trigger|each)(\.[A-Za-z0-9_$-]+|\[\d+\])+$/

/** `left` may be a placeholder string, a bare path, or a literal. Missing paths read as undefined (so `exists` works). */
function operand(v: unknown, ctx: Record<string, unknown>, extraRoots: readonly string[]): unknown {
  if (typeof v === 'string' && BARE_PATH.test(v.trim())) v = `{{ ${v.trim()} }}`
  try {
    return substitute(v, ctx, { extraRoots }).value
  } catch (err) {
    if (err instanceof ExprError && /^Unknown path/.test(err.message)) return undefined
    throw err
  }
}

const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && !isNaN(Number(v)) ? Number(v) : NaN)

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a === 'number' || typeof b === 'number') { const x = num(a); const y = num(b); return !isNaN(x) && x === y }
  if (typeof a === 'boolean' || typeof b === 'boolean') return String(a) === String(b)
  if (a && b && typeof a === 'object') return JSON.stringify(a) === JSON.stringify(b)
  return false
}

function compare(a: unknown, b: unknown): number | null {
  const x = num(a); const y = num(b)
  if (!isNaN(x) && !isNaN(y)) return x - y
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0
  return null
}

const isEmpty = (v: unknown) => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (isObj(v) && Object.keys(v).length === 0)

function contains(hay: unknown, needle: unknown): boolean {
  if (typeof hay === 'string') return needle !== undefined && needle !== null && hay.includes(String(needle))
  if (Array.isArray(hay)) return hay.some((x) => equal(x, needle))
  if (isObj(hay)) return typeof needle === 'string' && Object.prototype.hasOwnProperty.call(hay, needle)
  return false
}

export function applyOperator(op: string, a: unknown, b: unknown): boolean {
  switch (op) {
    case '==': return equal(a, b)
    case '!=': return !equal(a, b)
    case '>': case '>=': case '<': case '<=': {
      const c = compare(a, b)
      if (c === null) return false
      return op === '>' ? c > 0 : op === '>=' ? c >= 0 : op === '<' ? c < 0 : c <= 0
    }
    case 'contains': return contains(a, b)
    case 'not_contains': return !contains(a, b)
    case 'starts_with': return typeof a === 'string' && a.startsWith(String(b ?? ''))
    case 'ends_with': return typeof a === 'string' && a.endsWith(String(b ?? ''))
    case 'in': return contains(b, a)
    case 'exists': return a !== undefined && a !== null
    case 'empty': return isEmpty(a)
    case 'matches': {
      if (typeof b !== 'string') throw new ExprError('matches needs a pattern string on the right')
      const why = unsafePattern(b)
      if (why) throw new ExprError(`matches pattern refused: ${why}`)
      return typeof a === 'string' && new RegExp(b).test(a.slice(0, MATCH_INPUT_MAX))
    }
    default: throw new ExprError(`Unknown operator "${op}": use ${OPERATORS.join(', ')}`)
  }
}

const MAX_NODES = 200

/** Evaluates a condition tree; the outcome describes the last leaf evaluated (for test-condition). */
export function evaluateCondition(c: unknown, ctx: Record<string, unknown>, extraRoots: readonly string[] = []): ConditionOutcome {
  let nodes = 0
  let last: ConditionOutcome = { result: false, evaluated_value: null, expected_value: null, operator: '' }
  const rec = (n: unknown, depth: number): boolean => {
    if (++nodes > MAX_NODES || depth > 16) throw new ExprError('The condition is too large')
    if (typeof n === 'string') n = { expression: n }
    if (!isObj(n)) throw new ExprError('A condition must be an object { left, operator, right }, { and | or: [...] }, { not }, or { expression }')
    if (Array.isArray(n.and)) { const r = n.and.every((x) => rec(x, depth + 1)); last = { ...last, result: r, operator: 'and' }; return r }
    if (Array.isArray(n.or)) { const r = n.or.some((x) => rec(x, depth + 1)); last = { ...last, result: r, operator: 'or' }; return r }
    if (n.not !== undefined) { const r = !rec(n.not, depth + 1); last = { ...last, result: r, operator: 'not' }; return r }
    if (typeof n.expression === 'string') {
      const r = evaluateBool(n.expression, ctx)
      last = { result: r, evaluated_value: r, expected_value: true, operator: 'expression' }
      return r
    }
    if (typeof n.operator !== 'string') throw new ExprError('The condition has no operator')
    const a = operand(n.left, ctx, extraRoots)
    const b = n.right === undefined ? undefined : operand(n.right, ctx, extraRoots)
    const r = applyOperator(n.operator, a, b)
    last = { result: r, evaluated_value: a ?? null, expected_value: b ?? null, operator: n.operator }
    return r
  }
  const result = rec(c, 0)
  return { ...last, result }
}
