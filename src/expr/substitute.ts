/**
 * `{{ path }}` substitution (DESIGN §14): a small hand-written resolver, never eval. Paths start at a fixed
 * root (input, steps, vars, trigger; callers may allow a few more, e.g. `loop` inside a loop step) and walk
 * own properties of plain objects and arrays only. `__proto__`, `constructor` and `prototype` are refused
 * anywhere in a path. A placeholder that is the whole string keeps its type; embedded ones are stringified.
 * A substituted value is inserted as data and never scanned again, so `{{ input.x }}` whose value is
 * "{{ vars.secret }}" stays that literal text (a double evaluation was n8n's CVE-2026-27493).
 */

export const ROOTS = ['input', 'steps', 'vars', 'trigger'] as const
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype'])
const MAX_PATH_SEGMENTS = 32
const MAX_DEPTH = 64
/** `{{ ... }}` with no braces inside; the body is parsed by hand below. */
const PLACEHOLDER = /\{\{([^{}]{0,500})\}\}/g

export class ExprError extends Error {
  constructor(message: string, readonly path?: string, readonly syntax = false) { super(message) }
}

export interface Substitution { placeholder: string; path: string; value: unknown; defaulted?: boolean }

export interface SubstituteOptions {
  /** Extra roots allowed besides input/steps/vars/trigger (e.g. `loop`). */
  extraRoots?: readonly string[]
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** `a.b[0].c` or `a["b c"]` -> ['a', 'b', 0, 'c']; throws on anything else. */
export function parsePath(src: string): Array<string | number> {
  const s = src.trim()
  const out: Array<string | number> = []
  let i = 0
  const ident = /[A-Za-z_$][A-Za-z0-9_$-]*/y
  const bad = (why: string) => { throw new ExprError(`Invalid path "${s}": ${why}`, s, true) }
  ident.lastIndex = 0
  const first = ident.exec(s)
  if (!first) bad('it must start with a name')
  out.push(first![0])
  i = ident.lastIndex
  while (i < s.length) {
    if (s[i] === '.') {
      ident.lastIndex = i + 1
      const m = ident.exec(s)
      if (!m) {
        // numeric segment after a dot: items.0
        const num = /\d+/y
        num.lastIndex = i + 1
        const n = num.exec(s)
        if (!n) bad(`expected a name after "." at ${i}`)
        out.push(Number(n![0]))
        i = num.lastIndex
        continue
      }
      out.push(m[0])
      i = ident.lastIndex
    } else if (s[i] === '[') {
      const num = /\[\s*(\d+)\s*\]/y
      num.lastIndex = i
      const n = num.exec(s)
      if (n) { out.push(Number(n[1])); i = num.lastIndex; continue }
      const str = /\[\s*(?:"([^"\\]*)"|'([^'\\]*)')\s*\]/y
      str.lastIndex = i
      const q = str.exec(s)
      if (!q) bad(`expected [number] or ["key"] at ${i}`)
      out.push(q![1] ?? q![2])
      i = str.lastIndex
    } else bad(`unexpected "${s[i]}" at ${i}`)
    if (out.length > MAX_PATH_SEGMENTS) bad(`more than ${MAX_PATH_SEGMENTS} segments`)
  }
  for (const seg of out) if (typeof seg === 'string' && FORBIDDEN.has(seg)) throw new ExprError(`Path "${s}" uses the forbidden name "${seg}"`, s)
  return out
}

const NOT_FOUND = Symbol('not found')
const NOT_A_PATH = Symbol('not a path')

/** Walks own properties only; NOT_FOUND when a segment is missing. */
function walk(ctx: Record<string, unknown>, segs: Array<string | number>): unknown {
  let cur: unknown = ctx
  for (const seg of segs) {
    if (Array.isArray(cur)) {
      if (typeof seg !== 'number' || seg >= cur.length) return NOT_FOUND
      cur = cur[seg]
    } else if (isPlainObject(cur)) {
      const key = String(seg)
      if (!Object.prototype.hasOwnProperty.call(cur, key)) return NOT_FOUND
      cur = cur[key]
    } else return NOT_FOUND
  }
  return cur
}

/** A JSON literal after `| default:` (number, string in quotes, true/false/null), or the bare text. */
function parseLiteral(raw: string): unknown {
  const s = raw.trim()
  if (s === '') return ''
  if (/^(?:"[^"]*"|'[^']*')$/.test(s)) return s.slice(1, -1)
  if (s === 'true') return true
  if (s === 'false') return false
  if (s === 'null') return null
  if (/^-?\d+(?:\.\d+)?$/.test(s)) return Number(s)
  return s
}

interface Parsed { path: string; segs: Array<string | number>; fallback?: { value: unknown } }

function parseBody(body: string, roots: Set<string>): Parsed {
  const pipe = body.indexOf('|')
  const pathText = (pipe >= 0 ? body.slice(0, pipe) : body).trim()
  let fallback: Parsed['fallback']
  if (pipe >= 0) {
    const m = /^\s*default\s*:(.*)$/s.exec(body.slice(pipe + 1))
    if (!m) throw new ExprError(`Unknown filter in "{{${body}}}": only "| default: <literal>" is supported`, pathText)
    fallback = { value: parseLiteral(m[1]) }
  }
  const segs = parsePath(pathText)
  if (!roots.has(String(segs[0]))) throw new ExprError(`Unknown root "${segs[0]}" in "${pathText}": use ${[...roots].join(', ')}`, pathText)
  return { path: pathText, segs, fallback }
}

export function resolvePath(ctx: Record<string, unknown>, path: string, opts: SubstituteOptions = {}): unknown {
  const roots = new Set<string>([...ROOTS, ...(opts.extraRoots ?? [])])
  const p = parseBody(path, roots)
  const v = walk(ctx, p.segs)
  if (v === NOT_FOUND) {
    if (p.fallback) return p.fallback.value
    throw new ExprError(`Unknown path "${p.path}"`, p.path)
  }
  return v
}

const stringify = (v: unknown) => (typeof v === 'string' ? v : v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v))

/**
 * Substitutes every placeholder in strings anywhere inside `value` (objects, arrays) and returns a new value
 * plus the list of substitutions made. Keys are copied as own data properties (a `__proto__` key in the
 * template stays a plain key, it never sets a prototype).
 */
export function substitute(value: unknown, ctx: Record<string, unknown>, opts: SubstituteOptions = {}): { value: unknown; substitutions: Substitution[] } {
  const roots = new Set<string>([...ROOTS, ...(opts.extraRoots ?? [])])
  const substitutions: Substitution[] = []
  /** NOT_A_PATH: the text between braces is not a path at all (code, prose): it stays literal text. */
  const one = (placeholder: string, body: string): unknown => {
    let p: Parsed
    try { p = parseBody(body, roots) } catch (err) {
      if (err instanceof ExprError && err.syntax) return NOT_A_PATH
      throw err
    }
    let v = walk(ctx, p.segs)
    let defaulted = false
    if (v === NOT_FOUND || (v === undefined && p.fallback)) {
      if (!p.fallback) throw new ExprError(`Unknown path "${p.path}"`, p.path)
      v = p.fallback.value
      defaulted = true
    }
    substitutions.push({ placeholder, path: p.path, value: v, ...(defaulted ? { defaulted } : {}) })
    return v
  }
  const str = (s: string): unknown => {
    if (!s.includes('{{')) return s
    const whole = /^\{\{([^{}]{0,500})\}\}$/.exec(s.trim())
    if (whole && s.trim() === s) {
      const v = one(s, whole[1])
      return v === NOT_A_PATH ? s : v
    }
    // Embedded: each match is replaced from the original text in one pass, so inserted text is never re-scanned.
    return s.replace(PLACEHOLDER, (m, body: string) => {
      const v = one(m, body)
      return v === NOT_A_PATH ? m : stringify(v)
    })
  }
  const rec = (v: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new ExprError(`Parameters are nested deeper than ${MAX_DEPTH} levels`)
    if (typeof v === 'string') return str(v)
    if (Array.isArray(v)) return v.map((x) => rec(x, depth + 1))
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const key of Object.keys(v)) Object.defineProperty(out, key, { value: rec((v as Record<string, unknown>)[key], depth + 1), enumerable: true, writable: true, configurable: true })
      return out
    }
    return v
  }
  return { value: rec(value, 0), substitutions }
}

/** Every placeholder path used in a value (for validation of generated workflows). */
export function placeholders(value: unknown): string[] {
  const out: string[] = []
  const rec = (v: unknown) => {
    if (typeof v === 'string') for (const m of v.matchAll(PLACEHOLDER)) out.push(m[1].split('|')[0].trim())
    else if (Array.isArray(v)) v.forEach(rec)
    else if (v && typeof v === 'object') Object.values(v).forEach(rec)
  }
  rec(value)
  return out
}
