/**
 * CEL for conditions, transforms and retry_if (DESIGN §14) through @marcbachmann/cel-js: no eval, no
 * dependencies, property access on own keys only. Parser limits are tight, expressions are cached, and
 * `matches()` is only accepted with a literal pattern that passes a catastrophic-backtracking check.
 * Integral JS numbers enter CEL as int (so `input.n + 1` works) and bigints come back as numbers.
 */
import type { Environment } from '@marcbachmann/cel-js'
import { ExprError } from './substitute'

export const MAX_EXPRESSION_CHARS = 2000
const MAX_PATTERN_CHARS = 200

// The CEL library loads with the first expression, not at start-up (idle RSS, issue 10).
let envInstance: Environment | null = null
const env = () => (envInstance ??= new (require('@marcbachmann/cel-js') as typeof import('@marcbachmann/cel-js')).Environment({
  unlistedVariablesAreDyn: true,
  homogeneousAggregateLiterals: false,
  limits: { maxAstNodes: 300, maxDepth: 24, maxListElements: 100, maxMapEntries: 100, maxCallArguments: 8 },
}))

type Program = ReturnType<Environment['parse']>
const cache = new Map<string, Program>()
const CACHE_MAX = 1000

interface Node { op: string; args: unknown }

/**
 * A pattern is refused when it can backtrack catastrophically or reach outside plain matching: a quantified
 * group that itself contains a quantifier ((a+)+, (a|aa)*), backreferences, lookaround, or more than three
 * unbounded quantifiers.
 */
export function unsafePattern(p: string): string | null {
  if (p.length > MAX_PATTERN_CHARS) return `longer than ${MAX_PATTERN_CHARS} characters`
  if (/\\[1-9k]/.test(p)) return 'backreferences are not allowed'
  if (/\(\?<?[=!]/.test(p)) return 'lookaround is not allowed'
  try { new RegExp(p) } catch { return 'not a valid regular expression' }
  // Strip escapes and character classes, then look for a quantifier inside a quantified group.
  const plain = p.replace(/\\./g, 'x').replace(/\[[^\]]*\]/g, 'x')
  const stack: Array<{ quantified: boolean }> = []
  for (let i = 0; i < plain.length; i++) {
    const c = plain[i]
    if (c === '(') stack.push({ quantified: false })
    else if (c === ')') {
      const g = stack.pop()
      const next = plain[i + 1]
      const quantifiedGroup = next === '*' || next === '+' || next === '?' || next === '{'
      if (g?.quantified && quantifiedGroup) return 'a repeated group contains a repetition (catastrophic backtracking)'
      if (g?.quantified && stack.length) stack[stack.length - 1].quantified = true
    } else if ((c === '*' || c === '+' || c === '{') && stack.length) stack[stack.length - 1].quantified = true
    else if (c === '|' && stack.length) stack[stack.length - 1].quantified ||= /[*+{]/.test(plain.slice(i))
  }
  if ((plain.match(/[*+]|\{\d+,\}/g) ?? []).length > 3) return 'more than three unbounded repetitions'
  return null
}

function checkAst(node: unknown) {
  if (!node || typeof node !== 'object') return
  const n = node as Node
  if ((n.op === 'rcall' || n.op === 'call') && Array.isArray(n.args) && n.args[0] === 'matches') {
    const callArgs = (n.op === 'rcall' ? n.args[2] : n.args[1]) as Node[]
    const pattern = callArgs[callArgs.length - 1]
    if (!pattern || pattern.op !== 'value' || typeof pattern.args !== 'string') throw new ExprError('matches() needs a literal pattern string')
    const why = unsafePattern(pattern.args)
    if (why) throw new ExprError(`matches() pattern refused: ${why}`)
  }
  const args = n.args
  if (Array.isArray(args)) for (const a of args) Array.isArray(a) ? a.forEach(checkAst) : checkAst(a)
}

export function compile(expression: string): Program {
  const hit = cache.get(expression)
  if (hit) return hit
  if (typeof expression !== 'string' || !expression.trim()) throw new ExprError('The expression is empty')
  if (expression.length > MAX_EXPRESSION_CHARS) throw new ExprError(`The expression is longer than ${MAX_EXPRESSION_CHARS} characters`)
  let program: Program
  try { program = env().parse(expression) } catch (err) { throw new ExprError(`Invalid expression: ${firstLine(err)}`) }
  checkAst(program.ast)
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!)
  cache.set(expression, program)
  return program
}

const firstLine = (err: unknown) => String((err as Error)?.message ?? err).split('\n')[0]

/** JSON-ish data into CEL values: integral numbers become int; objects are copied (own enumerable keys only). */
export function toCel(v: unknown, depth = 0): unknown {
  if (depth > 64) throw new ExprError('The context is nested too deeply')
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v
  if (Array.isArray(v)) return v.map((x) => toCel(x, depth + 1))
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = Object.create(null)
    for (const key of Object.keys(v)) out[key] = toCel((v as Record<string, unknown>)[key], depth + 1)
    return out
  }
  return v === undefined ? null : v
}

/** CEL values back to JSON: bigints to numbers, Dates to ISO text, bytes to text, maps to objects. */
export function fromCel(v: unknown, depth = 0): unknown {
  if (typeof v === 'bigint') return Number(v)
  if (v instanceof Date) return v.toISOString()
  if (v instanceof Uint8Array) return new TextDecoder().decode(v)
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), fromCel(x, depth + 1)]))
  if (Array.isArray(v)) return v.map((x) => fromCel(x, depth + 1))
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(v)) out[key] = fromCel((v as Record<string, unknown>)[key], depth + 1)
    return out
  }
  return v
}

/** Evaluates a CEL expression over `ctx` (roots become variables); errors are ExprError with a readable message. */
export function evaluate(expression: string, ctx: Record<string, unknown>): unknown {
  const program = compile(expression)
  let out: unknown
  try { out = program(toCel(ctx) as Record<string, unknown>) } catch (err) { throw new ExprError(`Expression failed: ${firstLine(err)}`) }
  if (out && typeof (out as Promise<unknown>).then === 'function') throw new ExprError('Expression failed: asynchronous functions are not available')
  return fromCel(out)
}

export function evaluateBool(expression: string, ctx: Record<string, unknown>): boolean {
  const v = evaluate(expression, ctx)
  if (typeof v !== 'boolean') throw new ExprError(`The expression must give true or false, it gave ${JSON.stringify(v)}`)
  return v
}
