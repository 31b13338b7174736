import { describe, expect, test } from 'bun:test'
import { ExprError, evaluate, evaluateBool, evaluateCondition, resolvePath, substitute, unsafePattern } from '../src/expr/index'

const ctx = {
  input: { name: 'Ada', n: 3, price: 9.5, tags: ['a', 'b'], nested: { deep: { list: [{ id: 7 }] } }, empty: '', none: null, obj: {} },
  steps: { fetch: { status: 200, body: '{{ vars.secret }}' } },
  vars: { secret: 's3cret', channel: '#general' },
  trigger: { type: 'manual' },
}

describe('substitution', () => {
  test.each([
    ['{{ input.name }}', 'Ada'],
    ['{{input.n}}', 3],
    ['{{ input.tags }}', ['a', 'b']],
    ['{{ input.tags[1] }}', 'b'],
    ['{{ input.tags.0 }}', 'a'],
    ['{{ input.nested.deep.list[0].id }}', 7],
    ['{{ input["name"] }}', 'Ada'],
    ['Hi {{ input.name }}, n={{ input.n }}', 'Hi Ada, n=3'],
    ['tags: {{ input.tags }}', 'tags: ["a","b"]'],
    ['{{ input.none }}', null],
    ['{{ input.missing | default: 5 }}', 5],
    ['{{ input.missing | default: "x y" }}', 'x y'],
    ['{{ input.missing | default: true }}', true],
    ['{{ input.name | default: "zz" }}', 'Ada'],
    ['no placeholders', 'no placeholders'],
  ])('%s', (tpl, want) => {
    expect(substitute(tpl, ctx).value).toEqual(want)
  })

  test('objects and arrays are walked; substitutions are listed', () => {
    const r = substitute({ to: '{{ vars.channel }}', lines: ['{{ input.name }}', 'x'], n: 1 }, ctx)
    expect(r.value).toEqual({ to: '#general', lines: ['Ada', 'x'], n: 1 })
    expect(r.substitutions).toEqual([
      { placeholder: '{{ vars.channel }}', path: 'vars.channel', value: '#general' },
      { placeholder: '{{ input.name }}', path: 'input.name', value: 'Ada' },
    ])
  })

  test('an unknown path is an error naming it', () => {
    expect(() => substitute('{{ input.nope.deeper }}', ctx)).toThrow('Unknown path "input.nope.deeper"')
    expect(() => substitute('{{ input.tags[5] }}', ctx)).toThrow('Unknown path "input.tags[5]"')
  })

  test('only the fixed roots: nothing reaches the environment or globals', () => {
    for (const p of ['{{ process.env.HOME }}', '{{ globalThis }}', '{{ env.PATH }}', '{{ Bun }}']) {
      expect(() => substitute(p, ctx)).toThrow(/Unknown root/)
    }
  })

  test.each([
    '{{ input.__proto__ }}', '{{ input.constructor }}', '{{ input.name.constructor }}', '{{ input["__proto__"] }}',
    '{{ input.prototype }}', '{{ steps.constructor.prototype }}', '{{ constructor }}',
  ])('prototype access refused: %s', (p) => {
    expect(() => substitute(p, ctx)).toThrow(/forbidden name/)
  })

  test('inherited properties are not reachable', () => {
    expect(() => substitute('{{ input.tags.length }}', ctx)).toThrow(/Unknown path/)
    expect(() => substitute('{{ input.name.length }}', ctx)).toThrow(/Unknown path/)
    expect(() => substitute('{{ input.obj.toString }}', ctx)).toThrow(/Unknown path/)
    expect(() => substitute('{{ input.obj.hasOwnProperty }}', ctx)).toThrow(/Unknown path/)
  })

  test('template-injection strings stay text', () => {
    for (const s of [
      "{{constructor.constructor('return process')()}}",
      "{{ this.constructor.constructor('return process.env')() }}",
      '{{ input.name; process.exit(1) }}',
      '{{ $jmespath($json, "x") }}',
      '{{ `${process}` }}',
    ]) {
      expect(substitute(s, ctx).value).toBe(s)
      expect(substitute(`pre ${s} post`, ctx).value).toBe(`pre ${s} post`)
    }
  })

  test('a substituted value is never evaluated again', () => {
    expect(substitute('{{ steps.fetch.body }}', ctx).value).toBe('{{ vars.secret }}')
    expect(substitute('x {{ steps.fetch.body }} y', ctx).value).toBe('x {{ vars.secret }} y')
    const evil = { input: { a: '{{ input.b }}', b: 'B' } }
    expect(substitute('{{ input.a }}{{ input.b }}', evil).value).toBe('{{ input.b }}B')
  })

  test('prototype pollution through keys or values does not happen', () => {
    const payload = JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}')
    const r = substitute(payload, ctx).value as Record<string, unknown>
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype)
    expect(Object.keys(r)).toEqual(['__proto__', 'constructor'])
    const c2 = { input: JSON.parse('{"__proto__": {"x": 1}}') }
    expect(() => substitute('{{ input.__proto__.x }}', c2)).toThrow(/forbidden/)
  })

  test('unknown filter and bad defaults are errors', () => {
    expect(() => substitute('{{ input.name | upper }}', ctx)).toThrow(/only "\| default/)
  })

  test('resolvePath', () => {
    expect(resolvePath(ctx, 'input.nested.deep.list[0]')).toEqual({ id: 7 })
    expect(() => resolvePath(ctx, 'input.x')).toThrow(ExprError)
  })
})

describe('CEL', () => {
  test.each([
    ['input.n + 1', 4],
    ['input.price * 2.0', 19],
    ['input.name + "!"', 'Ada!'],
    ['size(input.tags) == 2', true],
    ['"a" in input.tags', true],
    ['input.nested.deep.list[0].id == 7', true],
    ['has(input.missing)', false],
    ['input.tags.map(t, t + "x")', ['ax', 'bx']],
    ['{"who": input.name, "n": input.n}', { who: 'Ada', n: 3 }],
    ['input.name.matches("^A[a-z]+$")', true],
    ['input.n > 2 ? "big" : "small"', 'big'],
  ])('%s', (e, want) => {
    expect(evaluate(e, ctx)).toEqual(want)
  })

  test.each([
    'input.constructor', 'input.__proto__', 'input["constructor"]', 'process.env', 'input.name.constructor', 'input.toString',
  ])('no prototype or globals: %s', (e) => {
    expect(() => evaluate(e, ctx)).toThrow(ExprError)
  })

  test.each([
    'input.name.matches("(a+)+$")', 'input.name.matches("(a|aa)*b")', 'input.name.matches("(x*)*")', 'input.name.matches("(\\\\w+\\\\s?)+$")',
    'input.name.matches("(.)\\\\1")', 'input.name.matches(vars.secret)', 'input.name.matches("a*b*c*d*e*")',
  ])('catastrophic or dynamic patterns refused: %s', (e) => {
    expect(() => evaluate(e, ctx)).toThrow(/matches\(\)/)
  })

  test('limits: long and deep expressions are refused', () => {
    expect(() => evaluate('1 + '.repeat(600) + '1', ctx)).toThrow(ExprError)
    expect(() => evaluate('('.repeat(40) + '1' + ')'.repeat(40), ctx)).toThrow(ExprError)
    expect(() => evaluate('[' + Array.from({ length: 150 }, (_, i) => i).join(',') + ']', ctx)).toThrow(ExprError)
  })

  test('evaluateBool refuses non-booleans', () => {
    expect(evaluateBool('input.n == 3', ctx)).toBe(true)
    expect(() => evaluateBool('input.n', ctx)).toThrow(/true or false/)
  })

  test('unsafePattern accepts ordinary patterns', () => {
    for (const p of ['^[a-z]+@example\\.com$', '\\d{3}-\\d{4}', 'urgent|asap', '^(re|fwd): .*']) expect(unsafePattern(p)).toBeNull()
  })
})

describe('conditions', () => {
  test.each([
    [{ left: '{{ input.n }}', operator: '==', right: 3 }, true],
    [{ left: '{{ input.n }}', operator: '==', right: '3' }, true],
    [{ left: 'input.n', operator: '!=', right: 4 }, true],
    [{ left: '{{ input.n }}', operator: '>', right: 2 }, true],
    [{ left: '{{ input.n }}', operator: '>=', right: 3 }, true],
    [{ left: '{{ input.n }}', operator: '<', right: 3 }, false],
    [{ left: '{{ input.price }}', operator: '<=', right: 9.5 }, true],
    [{ left: '{{ input.name }}', operator: 'contains', right: 'd' }, true],
    [{ left: '{{ input.tags }}', operator: 'contains', right: 'b' }, true],
    [{ left: '{{ input.tags }}', operator: 'not_contains', right: 'z' }, true],
    [{ left: '{{ input.name }}', operator: 'starts_with', right: 'A' }, true],
    [{ left: '{{ input.name }}', operator: 'ends_with', right: 'x' }, false],
    [{ left: '{{ input.name }}', operator: 'in', right: ['Ada', 'Bob'] }, true],
    [{ left: '{{ input.name }}', operator: 'exists' }, true],
    [{ left: '{{ input.missing }}', operator: 'exists' }, false],
    [{ left: '{{ input.empty }}', operator: 'empty' }, true],
    [{ left: '{{ input.obj }}', operator: 'empty' }, true],
    [{ left: '{{ input.tags }}', operator: 'empty' }, false],
    [{ left: '{{ input.name }}', operator: 'matches', right: '^A.a$' }, true],
    [{ left: 'abc', operator: '>', right: 'abd' }, false],
    [{ and: [{ left: '{{ input.n }}', operator: '>', right: 1 }, { left: '{{ input.name }}', operator: '==', right: 'Ada' }] }, true],
    [{ or: [{ left: '{{ input.n }}', operator: '>', right: 10 }, { left: '{{ input.name }}', operator: '==', right: 'Ada' }] }, true],
    [{ not: { left: '{{ input.n }}', operator: '>', right: 10 } }, true],
    [{ expression: 'input.n == 3 && "a" in input.tags' }, true],
  ])('%j', (c, want) => {
    expect(evaluateCondition(c, ctx).result).toBe(want)
  })

  test('outcome carries the evaluated and expected values', () => {
    expect(evaluateCondition({ left: '{{ input.n }}', operator: '>', right: 2 }, ctx)).toEqual({ result: true, evaluated_value: 3, expected_value: 2, operator: '>' })
  })

  test('bad operators and patterns are errors', () => {
    expect(() => evaluateCondition({ left: 1, operator: 'like', right: 1 }, ctx)).toThrow(/Unknown operator "like"/)
    expect(() => evaluateCondition({ left: 'aaa', operator: 'matches', right: '(a+)+$' }, ctx)).toThrow(/refused/)
  })
})
