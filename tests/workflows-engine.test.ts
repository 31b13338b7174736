/** The engine over HTTP: each step type, failures, retries, continue_on_error, timeouts, versions, cancel, SSE. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { testApp, userWithWorkspace, type TestApp, type Who } from './helpers'
import { parseSse } from './endpoints-kit'
import { startCountingApi, type CountingApi } from './fixtures/counting-api'
import { EVENT_CATALOG } from '../src/events/catalog'
import { validate } from '../src/agent/schema'

let t: TestApp
let u: Who
let api: CountingApi
beforeAll(async () => {
  t = testApp()
  u = await userWithWorkspace(t)
  api = startCountingApi()
})
afterAll(() => { api.close(); t.close() })

async function save(steps: unknown[], extra: Record<string, unknown> = {}) {
  const r = await t.req('POST', '/api/workflows/from-steps', { token: u.token, body: { name: 'wf', steps, ...extra } })
  expect(r.status).toBe(201)
  return r.body as { id: string; version: number }
}
const run = (id: string, input: Record<string, unknown> = {}, mode = 'sync') => t.req('POST', `/api/workflows/${id}/execute`, { token: u.token, body: { input_data: input, mode } })
const post = (path: string, key: string, body: unknown = {}) => ({
  id: 'post', type: 'tool', tool: 'http_request',
  parameters: { method: 'POST', url: `${api.url}/effect`, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', 'x-tag': key } },
})

async function waitDone(id: string) {
  for (let i = 0; i < 400; i++) {
    const r = await t.req('GET', `/api/workflows/executions/${id}`, { token: u.token })
    if (!['queued', 'running', 'waiting'].includes(r.body.status)) return r.body
    await Bun.sleep(10)
  }
  throw new Error('execution did not finish')
}

describe('step types', () => {
  test('transform (template and CEL) wires outputs into later steps; whole placeholders keep their type', async () => {
    const w = await save([
      { id: 'shape', type: 'transform', template: { who: '{{ input.name }}', n: '{{ input.n }}', greeting: 'Hi {{ input.name }}' } },
      { id: 'calc', type: 'transform', expression: 'steps.shape.n * 2 + size(input.tags)', output_key: 'doubled' },
      { id: 'final', type: 'transform', template: { total: '{{ steps.doubled }}', tag: '{{ vars.tag }}' } },
    ], { variables: { tag: 'v1' } })
    const r = await run(w.id, { name: 'Ada', n: 4, tags: ['a', 'b'] })
    expect(r.status).toBe(200)
    expect(r.body.status).toBe('success')
    expect(r.body.step_results.shape).toEqual({ who: 'Ada', n: 4, greeting: 'Hi Ada' })
    expect(r.body.step_results.doubled).toBe(10)
    expect(r.body.output_data).toEqual({ total: 10, tag: 'v1' })
    expect(r.body.steps.map((s: any) => [s.step_id, s.attempt, s.status])).toEqual([['shape', 1, 'success'], ['calc', 1, 'success'], ['final', 1, 'success']])
  })

  test('condition branches with on_true / on_false, and "end"', async () => {
    const w = await save([
      { id: 'check', type: 'condition', condition: { left: '{{ input.amount }}', operator: '>', right: 1000 }, on_true: 'big', on_false: 'small' },
      { id: 'big', type: 'transform', template: 'big', next: 'end' },
      { id: 'small', type: 'transform', template: 'small' },
    ])
    expect((await run(w.id, { amount: 5000 })).body.output_data).toBe('big')
    const small = (await run(w.id, { amount: 10 })).body
    expect(small.output_data).toBe('small')
    expect(small.step_results.check).toMatchObject({ result: false, evaluated_value: 10, expected_value: 1000, operator: '>' })
    expect(small.steps.map((s: any) => s.step_id)).toEqual(['check', 'small'])
    const cel = await save([
      { id: 'check', type: 'condition', expression: 'input.tier == "gold"', on_true: 'yes', on_false: 'no' },
      { id: 'yes', type: 'transform', template: 'y', next: 'end' },
      { id: 'no', type: 'transform', template: 'n' },
    ])
    expect((await run(cel.id, { tier: 'gold' })).body.output_data).toBe('y')
  })

  test('tool step: substituted parameters, Idempotency-Key execution:step:attempt, output', async () => {
    const w = await save([post('/effect', 'a', { order: '{{ input.order }}' })])
    const r = await run(w.id, { order: 42 })
    expect(r.body.status).toBe('success')
    const key = `${r.body.id}:post:1`
    expect(r.body.steps[0].idempotency_key).toBe(key)
    expect(api.requests.get(key)).toBe(1)
    expect(api.bodies.get(key)).toEqual({ order: '42' })
    expect(r.body.output_data.status).toBe(200)
    expect(JSON.parse(r.body.output_data.body)).toMatchObject({ applied: true, key })
  })

  test('loop over a list with a bounded item count', async () => {
    const w = await save([
      { id: 'each', type: 'loop', items: '{{ input.rows }}', max_items: 3, step: { type: 'transform', expression: 'each.item * 10 + each.index' } },
    ])
    const r = await run(w.id, { rows: [1, 2, 3] })
    expect(r.body.output_data).toEqual([10, 21, 32])
    expect(r.body.steps.map((s: any) => s.iteration)).toEqual([0, 1, 2])
    const tooMany = await run(w.id, { rows: [1, 2, 3, 4] })
    expect(tooMany.body.status).toBe('failed')
    expect(tooMany.body.error).toMatch(/more than max_items \(3\)/)
    const notList = await run(w.id, { rows: 'x' })
    expect(notList.body.error).toMatch(/must be a list/)
  })

  test('loop items each call a tool with their own idempotency key', async () => {
    const w = await save([{ id: 'each', type: 'loop', items: '{{ input.ids }}', step: { ...post('/effect', 'l', { id: '{{ each.item }}' }), id: undefined } }])
    const r = await run(w.id, { ids: ['x', 'y'] })
    expect(r.body.status).toBe('success')
    expect(api.bodies.get(`${r.body.id}:each[0]:1`)).toEqual({ id: 'x' })
    expect(api.bodies.get(`${r.body.id}:each[1]:1`)).toEqual({ id: 'y' })
  })

  test('delay: a duration persisted as wake time', async () => {
    const w = await save([{ id: 'wait', type: 'delay', duration_ms: 50 }, { id: 'after', type: 'transform', template: 'done' }])
    const r = await run(w.id)
    expect(r.body.status).toBe('success')
    const d = r.body.steps[0]
    expect(Date.parse(d.input.until) - Date.parse(d.started_at)).toBeGreaterThanOrEqual(49 - 1000)
    expect(d.output).toEqual({ waited_until: d.input.until })
  })

  test('llm step goes through the runtime (a missing key fails the step with the reason)', async () => {
    const w = await save([{ id: 'ask', type: 'llm', prompt: 'Summarise {{ input.text }}', provider: 'anthropic' }])
    const r = await run(w.id, { text: 'hello' })
    expect(r.body.status).toBe('failed')
    expect(r.body.error).toMatch(/No API key for the anthropic provider/)
    expect(r.body.steps[0].input).toEqual({ prompt: 'Summarise hello' })
  })
})

describe('failures', () => {
  test('an unknown path fails the step naming it', async () => {
    const w = await save([{ id: 's', type: 'transform', template: '{{ input.missing.deep }}' }])
    const r = await run(w.id)
    expect(r.body).toMatchObject({ status: 'failed', error_step: 's' })
    expect(r.body.error).toContain('Unknown path "input.missing.deep"')
  })

  test('retries with backoff until success; each attempt journaled with its own key', async () => {
    api.failNext(2)
    const w = await save([{ ...post('/effect', 'r'), retry: { max_attempts: 3, backoff: 'constant', initial_ms: 5, jitter: false } }])
    const r = await run(w.id)
    expect(r.body.status).toBe('success')
    expect(r.body.steps.map((s: any) => [s.attempt, s.status])).toEqual([[1, 'failed'], [2, 'failed'], [3, 'success']])
    expect(r.body.steps[0].error).toBe('HTTP 503')
    expect(r.body.steps.map((s: any) => s.idempotency_key)).toEqual([1, 2, 3].map((n) => `${r.body.id}:post:${n}`))
  })

  test('retry_if decides on the error and output', async () => {
    api.failNext(1)
    const w = await save([{ ...post('/effect', 'ri'), retry: { max_attempts: 3, initial_ms: 1, retry_if: 'output.status == 429' } }])
    const r = await run(w.id)
    expect(r.body.status).toBe('failed')
    expect(r.body.steps.length).toBe(1)
  })

  test('continue_on_error keeps going with the error as the output', async () => {
    const w = await save([
      { id: 'bad', type: 'transform', expression: 'input.nope', continue_on_error: true },
      { id: 'next', type: 'transform', template: { saw: '{{ steps.bad.error }}' } },
    ])
    const r = await run(w.id)
    expect(r.body.status).toBe('success')
    expect(r.body.output_data.saw).toMatch(/No such key: nope/)
  })

  test('timeout_ms stops a slow step', async () => {
    api.delayMs = 500
    try {
      const w = await save([{ ...post('/effect', 'slow'), timeout_ms: 50 }])
      const r = await run(w.id)
      expect(r.body.status).toBe('failed')
      expect(r.body.error).toMatch(/timed out after 50 ms/)
    } finally { api.delayMs = 0 }
  })

  test('a condition that loops forever is stopped after 1000 steps', async () => {
    const w = await save([{ id: 'spin', type: 'condition', condition: { left: 1, operator: '==', right: 2 }, on_false: 'spin' }])
    const r = await run(w.id)
    expect(r.body.status).toBe('failed')
    expect(r.body.error).toMatch(/more than 1000 steps/)
    expect(r.body.steps.length).toBe(1000)
    expect(new Set(r.body.steps.map((s: any) => s.idempotency_key)).size).toBe(1000) // each visit has its own key
  })

  test('workflow.execution.completed / failed events are published', async () => {
    const rows = t.k.db.query<{ type: string; data: string }, []>("SELECT type, data FROM events WHERE type LIKE 'workflow.execution.%'").all()
    expect(rows.some((r) => r.type === 'workflow.execution.completed')).toBe(true)
    expect(rows.some((r) => r.type === 'workflow.execution.failed' && JSON.parse(r.data).error)).toBe(true)
    // Every published payload matches the typed catalog's schema.
    for (const r of rows) expect({ type: r.type, problem: validate((EVENT_CATALOG as any)[r.type].schema, JSON.parse(r.data)) }).toEqual({ type: r.type, problem: null })
  })
})

describe('versions, async, stream, cancel', () => {
  test('an update makes a new version; a running execution keeps the version it started on', async () => {
    const w = await save([{ id: 'wait', type: 'delay', duration_ms: 300 }, { id: 'out', type: 'transform', template: 'v1' }])
    const a = await run(w.id, {}, 'async')
    expect(a.status).toBe(202)
    expect(a.body.status_url).toBe(`/api/workflows/executions/${a.body.execution_id}`)
    const up = await t.req('PUT', `/api/workflows/${w.id}`, { token: u.token, body: { steps: [{ id: 'out', type: 'transform', template: 'v2' }] } })
    expect(up.body.version).toBe(2)
    const renamed = await t.req('PATCH', `/api/workflows/${w.id}`, { token: u.token, body: { name: 'renamed' } })
    expect(renamed.body.version).toBe(2)
    const done = await waitDone(a.body.execution_id)
    expect(done).toMatchObject({ status: 'success', version: 1, output_data: 'v1' })
    expect((await run(w.id)).body).toMatchObject({ version: 2, output_data: 'v2' })
    const versions = await t.req('GET', `/api/workflows/${w.id}/versions`, { token: u.token })
    expect(versions.body.map((v: any) => [v.version, v.current])).toEqual([[2, true], [1, false]])
    expect(versions.body[1].steps[1].template).toBe('v1')
  })

  test('cancel stops a waiting execution; it never resumes', async () => {
    const w = await save([{ id: 'wait', type: 'delay', duration: '1h' }, { id: 'out', type: 'transform', template: 'x' }])
    const a = await run(w.id, {}, 'async')
    for (let i = 0; i < 100; i++) {
      if ((await t.req('GET', a.body.status_url, { token: u.token })).body.status === 'waiting') break
      await Bun.sleep(10)
    }
    const c = await t.req('POST', `/api/workflows/executions/${a.body.execution_id}/cancel`, { token: u.token })
    expect(c.body.status).toBe('cancelled')
    expect(c.body.steps[0]).toMatchObject({ status: 'failed', error: 'cancelled' })
    expect((await t.req('POST', `/api/workflows/executions/${a.body.execution_id}/cancel`, { token: u.token })).status).toBe(409)
    const ev = parseSse((await t.req('GET', a.body.events_url, { token: u.token })).text)
    expect(ev.at(-1)!.event).toBe('run.failed')
    expect(JSON.parse(ev.at(-1)!.data).code).toBe('cancelled')
  })

  test('executions waiting out long delays do not hold the pool: a new one still runs', async () => {
    const slow = await save([{ id: 'wait', type: 'delay', duration: '1h' }, { id: 'out', type: 'transform', template: 'late' }])
    const fast = await save([{ id: 'out', type: 'transform', template: 'quick' }])
    const waiting: string[] = []
    for (let i = 0; i < 20; i++) waiting.push((await run(slow.id, {}, 'async')).body.execution_id) // more than the pool's 16 slots
    const f = await run(fast.id, {}, 'async')
    expect(await waitDone(f.body.execution_id)).toMatchObject({ status: 'success', output_data: 'quick' })
    for (const id of waiting) await t.req('POST', `/api/workflows/executions/${id}/cancel`, { token: u.token })
  })

  test('stream mode: SSE with step events, ending with run.completed; events resumable', async () => {
    const w = await save([{ id: 'a', type: 'transform', template: 1 }, { id: 'b', type: 'transform', template: 2 }])
    const r = await run(w.id, {}, 'stream')
    expect(r.headers.get('content-type')).toContain('text/event-stream')
    const ev = parseSse(r.text)
    expect(ev.map((e) => e.event)).toEqual(['run.started', 'step.started', 'step.completed', 'step.started', 'step.completed', 'run.completed'])
    const execId = JSON.parse(ev[0].data).execution_id
    const resumed = await t.req('GET', `/api/workflows/executions/${execId}/events`, { token: u.token, headers: { 'last-event-id': '3' } })
    expect(parseSse(resumed.text).map((e) => Number(e.id))).toEqual([4, 5, 6])
  })

  test('lists: all executions, per workflow; not-owned is 404', async () => {
    const w = await save([{ id: 'a', type: 'transform', template: 1 }])
    await run(w.id)
    const mine = await t.req('GET', `/api/workflows/${w.id}/executions`, { token: u.token })
    expect(mine.body.length).toBe(1)
    const all = await t.req('GET', '/api/workflows/executions', { token: u.token })
    expect(all.body.length).toBeGreaterThan(5)
    const other = await t.user()
    expect((await t.req('GET', `/api/workflows/${w.id}`, { token: other.token })).status).toBe(404)
    expect((await t.req('GET', `/api/workflows/executions/${mine.body[0].id}`, { token: other.token })).status).toBe(404)
    expect((await t.req('POST', `/api/workflows/${w.id}/execute`, { token: other.token, body: {} })).status).toBe(404)
    expect((await t.req('GET', '/api/workflows/executions', { token: other.token })).body).toEqual([])
    expect((await t.req('DELETE', `/api/workflows/${w.id}`, { token: u.token })).body).toEqual({ deleted: true })
    expect((await t.req('GET', `/api/workflows/${w.id}`, { token: u.token })).status).toBe(404)
  })
})
