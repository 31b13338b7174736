// The logger and the metrics registry build their output by hand on the hot path (no merged object per line,
// no key strings per request); these pin that output to what the plain construction gives.
import { describe, expect, test } from 'bun:test'
import { createLogger, type Level } from '../src/log'
import { Metrics } from '../src/http/metrics'

const capture = (base?: Record<string, unknown>) => {
  const lines: string[] = []
  const log = createLogger('debug', (l) => lines.push(l))
  return { lines, log: base ? log.child(base) : log }
}

describe('log lines', () => {
  const cases: [string, Record<string, unknown> | undefined, Record<string, unknown> | undefined][] = [
    ['plain', undefined, undefined],
    ['with fields', undefined, { request_id: 'req_1', status: 200, ms: 0.4, ok: true, nested: { a: [1, 'x'] } }],
    ['empty and undefined fields', undefined, { gone: undefined }],
    ['quotes "and" \\ newlines\n', undefined, { text: 'a "b"\n\tc ✓' }],
    ['child', { request_id: 'req_2', run_id: 'run_9' }, { status: 500 }],
    ['field repeats a base key: the field wins, once', { request_id: 'req_2' }, { request_id: 'req_3', x: 1 }],
    ['field repeats a header key', undefined, { msg: 'overridden', level: 'custom', time: 'then' }],
  ]
  for (const [msg, base, fields] of cases) {
    test(msg.split('\n')[0], () => {
      const { lines, log } = capture(base)
      log.warn(msg, fields)
      expect(lines).toHaveLength(1)
      const got = JSON.parse(lines[0])
      const want = { time: got.time, level: 'warn' as Level, msg, ...base, ...fields }
      expect(got).toEqual(JSON.parse(JSON.stringify(want)))
      expect(Object.keys(got)).toEqual(Object.keys(JSON.parse(JSON.stringify(want)))) // same key order
      expect(lines[0].match(/"request_id"/g)?.length ?? 0).toBe('request_id' in { ...base, ...fields } ? 1 : 0)
      if (!fields?.time) expect(got.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    })
  }
  test('levels below the minimum write nothing', () => {
    const lines: string[] = []
    createLogger('warn', (l) => lines.push(l)).info('no')
    expect(lines).toEqual([])
  })
})

describe('request metrics', () => {
  test('counts by status and cumulative latency buckets per route', () => {
    const m = new Metrics()
    for (const s of [0.001, 0.004, 0.02, 0.3, 3, 20]) m.observe('GET', '/api/x/:id', 200, s)
    m.observe('GET', '/api/x/:id', 404, 0.01)
    m.observe('POST', '/api/x/:id', 201, 0.06)
    const text = m.render()
    expect(text).toContain('agentbase_http_requests_total{method="GET",route="/api/x/:id",status="200"} 6')
    expect(text).toContain('agentbase_http_requests_total{method="GET",route="/api/x/:id",status="404"} 1')
    expect(text).toContain('agentbase_http_requests_total{method="POST",route="/api/x/:id",status="201"} 1')
    const bucket = (method: string, le: string) => Number(text.match(new RegExp(`_bucket\\{method="${method}",route="/api/x/:id",le="${le.replace('+', '\\+')}"\\} (\\d+)`))?.[1])
    // GET latencies 0.001, 0.004, 0.01, 0.02, 0.3, 3, 20: each bucket counts everything at or below its bound
    expect(['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'].map((le) => bucket('GET', le))).toEqual([2, 3, 4, 4, 4, 4, 5, 5, 5, 6, 6, 7])
    expect(bucket('POST', '0.05')).toBe(0)
    expect(bucket('POST', '0.1')).toBe(1)
    expect(text).toContain('agentbase_http_request_duration_seconds_count{method="GET",route="/api/x/:id"} 7')
  })
})
