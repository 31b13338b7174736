import { afterAll, describe, expect, test } from 'bun:test'
import { testApp } from './helpers'
import { ManualClock } from '../src/clock'
import { builtinTools, HTTP_TOOL_MAX_BYTES } from '../src/tools/builtins'
import { costMicro, priceOf } from '../src/llm/pricing'
import { retryAfterMs } from '../src/llm/http'
import type { ToolContext } from '../src/agent/types'

/** Built-in tools (http_request through the outbound guard, current_time), the price table, retry-after parsing. */

const clock = new ManualClock(Date.parse('2026-03-14T10:00:00Z'))
const t = testApp({ clock })
const strict = testApp({ env: { AGENTBASE_OUTBOUND_ALLOW: '' } })
const target = Bun.serve({
  port: 0, hostname: '127.0.0.1',
  async fetch(req) {
    const url = new URL(req.url)
    if (url.pathname === '/big') return new Response('x'.repeat(HTTP_TOOL_MAX_BYTES * 2))
    if (url.pathname === '/echo') return Response.json({ method: req.method, body: await req.text(), h: req.headers.get('x-test') })
    return new Response('missing', { status: 404 })
  },
})
afterAll(() => { t.close(); strict.close(); target.stop(true) })
const ctx = (): ToolContext => ({ signal: new AbortController().signal, ownerId: 'u' })
const base = `http://127.0.0.1:${target.port}`

describe('http_request', () => {
  const tools = builtinTools(t.k)
  test('is listed with a JSON Schema', async () => {
    const defs = await tools.list()
    expect(defs.map((d) => d.name)).toEqual(['http_request', 'current_time'])
    expect(defs[0].inputSchema).toMatchObject({ type: 'object', required: ['url'] })
  })
  test('sends method, headers and body; returns status and body', async () => {
    const r = await tools.call('http_request', { method: 'POST', url: `${base}/echo`, headers: { 'x-test': 'yes' }, body: 'hello' }, ctx())
    expect(r.isError).toBeFalsy()
    expect(r.content).toStartWith('HTTP 200')
    expect((r.data as { body: string }).body).toBe(JSON.stringify({ method: 'POST', body: 'hello', h: 'yes' }))
  })
  test('a 404 is reported to the model with its status', async () => {
    const r = await tools.call('http_request', { url: `${base}/nope` }, ctx())
    expect(r.content).toStartWith('HTTP 404')
  })
  test('caps the response body', async () => {
    const r = await tools.call('http_request', { url: `${base}/big` }, ctx())
    expect((r.data as { truncated: boolean; body: string }).truncated).toBe(true)
    expect((r.data as { body: string }).body.length).toBe(HTTP_TOOL_MAX_BYTES)
    expect(r.content).toContain('[body truncated')
  })
  test('private addresses are refused by the outbound guard', async () => {
    await expect(builtinTools(strict.k).call('http_request', { url: `${base}/echo` }, ctx())).rejects.toMatchObject({ status: 400, code: 'url_refused' })
    await expect(tools.call('http_request', { url: 'file:///etc/passwd' }, ctx())).rejects.toMatchObject({ code: 'url_refused' })
  })
})

describe('current_time', () => {
  const tools = builtinTools(t.k)
  const cases = [
    { tz: undefined, local: '2026-03-14T10:00:00+00:00', zone: 'UTC' },
    { tz: 'Europe/Berlin', local: '2026-03-14T11:00:00+01:00', zone: 'Europe/Berlin' },
    { tz: 'Asia/Kolkata', local: '2026-03-14T15:30:00+05:30', zone: 'Asia/Kolkata' },
    { tz: 'America/New_York', local: '2026-03-14T06:00:00-04:00', zone: 'America/New_York' },
  ]
  for (const c of cases) {
    test(`in ${c.zone}`, async () => {
      const r = await tools.call('current_time', c.tz ? { timezone: c.tz } : {}, ctx())
      expect(r.isError).toBeFalsy()
      expect(r.data).toMatchObject({ utc: '2026-03-14T10:00:00Z', timezone: c.zone, local: c.local, weekday: 'Saturday' })
    })
  }
  test('unknown zone is a tool error', async () => {
    const r = await tools.call('current_time', { timezone: 'Mars/Olympus' }, ctx())
    expect(r.isError).toBe(true)
    expect(r.content).toContain('Unknown time zone')
  })
})

describe('pricing', () => {
  const cases: Array<[string, [number, number] | null]> = [
    ['gpt-4o', [2.5, 10]], ['gpt-4o-2024-08-06', [2.5, 10]], ['gpt-4o-mini', [0.15, 0.6]], ['gpt-4o-mini-2024-07-18', [0.15, 0.6]],
    ['gpt-4.1-nano', [0.1, 0.4]], ['o3-mini', [1.1, 4.4]], ['o4-mini-2025-04-16', [1.1, 4.4]],
    ['claude-3-5-sonnet-latest', [3, 15]], ['claude-sonnet-4-20250514', [3, 15]], ['claude-opus-4-1-20250805', [15, 75]], ['claude-3-5-haiku-20241022', [0.8, 4]],
    ['models/gemini-2.5-flash', [0.3, 2.5]], ['gemini-2.5-pro', [1.25, 10]], ['llama-3.1-8b-instant', [0.05, 0.08]],
    ['gpt-5-pro', null], ['my-model', null],
  ]
  for (const [model, price] of cases) test(model, () => expect(priceOf(model)).toEqual(price))
  test('micro-cents are integers; unknown is 0 and not known', () => {
    expect(costMicro('openai', 'gpt-4o', 1234, 567)).toEqual({ micro: 1234 * 250 + 567 * 1000, known: true })
    expect(costMicro('gemini', 'gemini-2.0-flash-lite', 3, 1)).toEqual({ micro: Math.round(3 * 7.5 + 30), known: true })
    expect(costMicro('custom', 'whatever', 100, 100)).toEqual({ micro: 0, known: false })
    expect(costMicro('ollama', 'llama3', 100, 100)).toEqual({ micro: 0, known: true })
  })
})

test('retry-after parsing: seconds, HTTP date, retry-after-ms', () => {
  const now = Date.parse('2026-03-14T10:00:00Z')
  expect(retryAfterMs(new Headers({ 'retry-after': '2' }), now)).toBe(2000)
  expect(retryAfterMs(new Headers({ 'retry-after': 'Sat, 14 Mar 2026 10:00:05 GMT' }), now)).toBe(5000)
  expect(retryAfterMs(new Headers({ 'retry-after-ms': '150', 'retry-after': '9' }), now)).toBe(150)
  expect(retryAfterMs(new Headers(), now)).toBeNull()
})
