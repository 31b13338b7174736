import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { testApp } from './helpers'
import { startFakeLlm } from './fixtures/fake-llm'
import { collect, run } from '../src/agent/run'
import { parseJsonAnswer } from '../src/agent/schema'
import type { AgentSpec } from '../src/agent/types'

/** JSON output format: valid, fenced, repaired after one turn, invalid after the repair. */

const fake = await startFakeLlm()
const t = testApp({ env: { OPENAI_BASE_URL: fake.openaiBase, OPENAI_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: fake.anthropicBase, ANTHROPIC_API_KEY: 'sk-ant-test' } })
afterAll(() => { t.close(); fake.close() })
beforeEach(() => fake.reset())

const schema = { type: 'object', properties: { city: { type: 'string' }, temp: { type: 'number' } }, required: ['city', 'temp'], additionalProperties: false }

for (const wire of ['openai', 'anthropic'] as const) {
  const spec = (extra: Partial<AgentSpec> = {}): AgentSpec => ({
    systemPrompt: 'Extract the weather.', provider: wire, model: wire === 'openai' ? 'gpt-4.1-mini' : 'claude-haiku-4-5', ownerId: 'u',
    outputFormat: 'json', outputSchema: schema, ...extra,
  })

  describe(`${wire} json output`, () => {
    test('valid JSON in a fenced block: output parsed, raw_output kept, schema in the system prompt', async () => {
      const raw = 'Here you go:\n```json\n{"city":"Oslo","temp":-3}\n```'
      fake.reply({ text: raw })
      const r = await collect(run(t.k, spec(), { message: 'Oslo is at -3' }))
      expect(r.ok).toBe(true)
      expect(r.result.output).toEqual({ city: 'Oslo', temp: -3 })
      expect(r.result.raw_output).toBe(raw)
      const sys = wire === 'openai' ? fake.requests[0].body.messages[0].content : fake.requests[0].body.system
      expect(sys).toStartWith('Extract the weather.')
      expect(sys).toContain('"required":["city","temp"]')
    })

    test('invalid, then repaired in one turn that carries the validation error', async () => {
      fake.reply({ text: '{"city":"Oslo"}' }, { text: '{"city":"Oslo","temp":-3}' })
      const r = await collect(run(t.k, spec(), { message: 'Oslo is at -3' }, { stream: true }))
      expect(r.ok).toBe(true)
      expect(r.result.output).toEqual({ city: 'Oslo', temp: -3 })
      expect(fake.requests.length).toBe(2)
      const last = fake.requests[1].body.messages.at(-1)
      const repair = typeof last.content === 'string' ? last.content : last.content.map((b: { text?: string }) => b.text).join('')
      expect(repair).toContain("must have required property 'temp'")
      expect(r.result.usage.iterations).toBe(2)
      // the repair exchange is not part of the persisted history
      expect(r.result.messages).toEqual([{ role: 'assistant', content: '{"city":"Oslo","temp":-3}' }])
    })

    test('still invalid after the repair: the run fails with the validation error', async () => {
      fake.reply({ text: 'I cannot do that' }, { text: '{"city": 5, "temp": 1}' })
      const r = await collect(run(t.k, spec(), { message: 'x' }))
      expect(r.ok).toBe(false)
      if (r.ok) return
      expect(r.code).toBe('output_invalid')
      expect(r.status).toBe(502)
      expect(r.error).toContain('city must be string')
      expect(r.result.raw_output).toBeUndefined()
      expect(r.result.text).toBe('{"city": 5, "temp": 1}')
      expect(fake.requests.length).toBe(2)
    })

    test('no schema: any JSON value is accepted; not JSON is repaired', async () => {
      fake.reply({ text: 'nope' }, { text: '[1,2,3]' })
      const r = await collect(run(t.k, spec({ outputSchema: null }), { message: 'x' }))
      expect(r.ok).toBe(true)
      expect(r.result.output).toEqual([1, 2, 3])
    })
  })
}

describe('parseJsonAnswer', () => {
  const cases: Array<[string, unknown]> = [
    ['{"a":1}', { a: 1 }],
    ['```json\n{"a":1}\n```', { a: 1 }],
    ['```\n[1]\n```', [1]],
    ['Sure! {"a": {"b": 2}} hope that helps', { a: { b: 2 } }],
    ['  42 ', 42],
  ]
  for (const [text, value] of cases) test(JSON.stringify(text), () => expect(parseJsonAnswer(text)).toEqual({ ok: true, value }))
  test('empty and prose fail', () => {
    expect(parseJsonAnswer('').ok).toBe(false)
    expect(parseJsonAnswer('no json here').ok).toBe(false)
  })
})
