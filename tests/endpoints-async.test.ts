/** Async mode: 202 + run id, status polling, the recorded SSE event stream (resume), signed callbacks, the worker pool. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createEndpoint, epEnv, parseSse, readSse, until, userWithWorkspace, count, type Ep, type EpEnv, type Who } from './endpoints-kit'
import type { EventSourceMessage } from 'eventsource-parser'
import { WORKER_NAME } from '../src/runs/service'

let env: EpEnv, alice: Who, bob: Who, ep: Ep
beforeAll(async () => {
  env = await epEnv()
  alice = await userWithWorkspace(env.t)
  bob = await userWithWorkspace(env.t)
  ep = await createEndpoint(env.t, alice, { slug: 'async-main', async_mode: true, rate_limit_rpm: 1000 })
})
afterAll(() => env.close())

const req = (...a: Parameters<EpEnv['t']['req']>) => env.t.req(...a)
const submit = (body: unknown, e: Ep = ep) => req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body })
const status = (runId: string, headers: Record<string, string> = { 'x-api-key': ep.key }) => req('GET', `/api/runs/${runId}`, { headers })
const events = (path: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  env.t.app.handle(new Request(`http://localhost${path}`, { headers, signal }))

describe('queued until the worker runs', () => {
  let queued: any
  test('202 with run_id, status queued, status_url and events_url; nothing run yet', async () => {
    const calls = env.llm.requests.length
    const r = await submit({ input: 'first' })
    expect(r.status).toBe(202)
    expect(Object.keys(r.body).sort()).toEqual(['events_url', 'run_id', 'status', 'status_url'])
    expect(r.body.run_id).toMatch(/^run_/)
    expect(r.body.status).toBe('queued')
    expect(r.body.status_url).toMatch(new RegExp(`^/api/runs/${r.body.run_id}\\?access_token=[A-Za-z0-9_-]{32}$`))
    expect(r.body.events_url).toMatch(new RegExp(`^/api/runs/${r.body.run_id}/events\\?access_token=`))
    expect(env.llm.requests.length).toBe(calls)
    const s = await req('GET', r.body.status_url)
    expect(s.status).toBe(200)
    expect(s.body).toMatchObject({ run_id: r.body.run_id, endpoint_id: ep.id, status: 'queued', started_at: null, finished_at: null })
    expect(s.body).not.toHaveProperty('output')
    queued = r.body
  })

  test('then queued -> running -> success, with the result in the sync shape', async () => {
    env.llm.reply({ text: 'Done slowly', delayMs: 400, usage: { input: 10, output: 3 } })
    const seen: string[] = []
    env.t.k.workers.start(WORKER_NAME)
    await until(async () => {
      const s = (await status(queued.run_id)).body.status
      if (seen.at(-1) !== s) seen.push(s)
      return s === 'success'
    }, 10_000, 'success')
    expect(seen).toEqual(expect.arrayContaining(['running', 'success']))
    expect(seen.indexOf('running')).toBeLessThan(seen.indexOf('success'))
    const s = await status(queued.run_id)
    expect(s.body).toMatchObject({ status: 'success', output: 'Done slowly', tool_calls: [], usage: { tokens_input: 10, tokens_output: 3, iterations: 1 } })
    expect(s.body.started_at).toMatch(/Z$/)
    expect(s.body.finished_at).toMatch(/Z$/)
    // Recorded like any run, debited in the same transaction.
    const row = env.t.k.db.query<any, [string]>('SELECT * FROM runs WHERE id = ?').get(queued.run_id)
    expect(row).toMatchObject({ mode: 'async', status: 'success', input: 'first' })
    const debit = env.t.k.db.query<any, [string]>("SELECT amount_micro FROM wallet_ledger WHERE ref_id = ?").get(queued.run_id)
    expect(debit.amount_micro).toBe(row.charged_micro)
  })
})

describe('GET /api/runs/:id access', () => {
  let runId: string, token: string
  beforeAll(async () => {
    const r = await submit({ input: 'access' })
    runId = r.body.run_id
    token = new URL(r.body.status_url, 'http://x').searchParams.get('access_token')!
    await until(async () => (await status(runId)).body.status === 'success')
  })
  const cases: Array<{ name: string; headers: () => Record<string, string>; query?: () => string; status: number }> = [
    { name: 'endpoint key (X-API-Key)', headers: () => ({ 'x-api-key': ep.key }), status: 200 },
    { name: 'endpoint key (Bearer)', headers: () => ({ authorization: `Bearer ${ep.key}` }), status: 200 },
    { name: "owner's JWT", headers: () => ({ authorization: `Bearer ${alice.token}` }), status: 200 },
    { name: 'access_token from status_url', headers: () => ({}), query: () => `?access_token=${token}`, status: 200 },
    { name: 'nothing', headers: () => ({}), status: 401 },
    { name: 'wrong access_token', headers: () => ({}), query: () => `?access_token=${'A'.repeat(32)}`, status: 401 },
    { name: "someone else's JWT", headers: () => ({ authorization: `Bearer ${bob.token}` }), status: 404 },
    { name: "another endpoint's key", headers: () => ({ 'x-api-key': 'aek_not_this_endpoint' }), status: 404 },
  ]
  for (const c of cases) {
    test(`${c.name}: ${c.status}`, async () => {
      const r = await req('GET', `/api/runs/${runId}${c.query?.() ?? ''}`, { headers: c.headers() })
      expect(r.status).toBe(c.status)
      const e = await events(`/api/runs/${runId}/events${c.query?.() ?? ''}`, c.headers())
      expect(e.status).toBe(c.status)
      await e.body?.cancel()
    })
  }
  test('unknown run: 404', async () => {
    expect((await req('GET', '/api/runs/run_nope', { headers: { authorization: `Bearer ${alice.token}` } })).status).toBe(404)
  })
})

describe('events stream', () => {
  let runId: string, url: string
  beforeAll(async () => {
    env.llm.reply({ text: 'alpha beta gamma delta' })
    const r = await submit({ input: 'stream me' })
    runId = r.body.run_id
    url = r.body.events_url
    await until(async () => (await status(runId)).body.status === 'success')
  })

  test('from the start: run.started ... run.completed, ids 1..n, data repeats the type', async () => {
    const res = await events(url)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const ev = parseSse(await res.text())
    expect(ev[0].event).toBe('run.started')
    expect(ev.at(-1)!.event).toBe('run.completed')
    expect(ev.map((e) => Number(e.id))).toEqual(ev.map((_, i) => i + 1))
    const data = ev.map((e) => JSON.parse(e.data))
    expect(data.every((d, i) => d.type === ev[i].event && d.run_id === runId)).toBe(true)
    expect(data[0].endpoint_id).toBe(ep.id)
    expect(data.filter((d) => d.type === 'text.delta').map((d) => d.text).join('')).toBe('alpha beta gamma delta')
    expect(data.at(-1).result.output).toBe('alpha beta gamma delta')
    // Replayed from the recorded rows.
    expect(count(env.t, 'run_events', 'run_id = ?', runId)).toBe(ev.length)
  })

  test('resume with Last-Event-ID (header or query) sends only what follows', async () => {
    const all = parseSse(await (await events(url)).text())
    const after3 = parseSse(await (await events(url, { 'last-event-id': '3' })).text())
    expect(after3.map((e) => e.id)).toEqual(all.slice(3).map((e) => e.id))
    expect(after3.map((e) => e.data)).toEqual(all.slice(3).map((e) => e.data))
    const q = parseSse(await (await events(`${url}&last_event_id=${all.length - 1}`)).text())
    expect(q.map((e) => e.event)).toEqual(['run.completed'])
    const none = parseSse(await (await events(url, { 'last-event-id': String(all.length) })).text())
    expect(none).toEqual([])
    const bad = await events(url, { 'last-event-id': 'abc' })
    expect(bad.status).toBe(400)
  })

  test('live: follows a running run, survives a disconnect, resumes exactly where it stopped', async () => {
    env.llm.reply({ text: 'one two three four five six seven eight nine ten', tokenDelayMs: 40 })
    const r = await submit({ input: 'live' })
    const first: EventSourceMessage[] = []
    const ac = new AbortController()
    const res = await events(r.body.events_url, {}, ac.signal)
    await readSse(res, (e) => { first.push(e); return first.filter((x) => x.event === 'text.delta').length >= 3 })
    ac.abort()
    expect(first[0].event).toBe('run.started')
    expect((await status(r.body.run_id)).body.status).toBe('running') // the run goes on without the client
    const rest: typeof first = []
    await readSse(await events(r.body.events_url, { 'last-event-id': first.at(-1)!.id! }), (e) => { rest.push(e) })
    const ids = [...first, ...rest].map((e) => Number(e.id))
    expect(ids).toEqual(ids.map((_, i) => i + 1)) // no gap, no duplicate
    expect(rest.at(-1)!.event).toBe('run.completed')
    const text = [...first, ...rest].filter((e) => e.event === 'text.delta').map((e) => JSON.parse(e.data).text).join('')
    expect(text).toBe('one two three four five six seven eight nine ten')
  })

  test('a browser EventSource over real HTTP (URL token only, then Last-Event-ID reconnect)', async () => {
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (rq) => env.t.app.handle(rq) })
    try {
      const headers = { accept: 'text/event-stream', 'cache-control': 'no-cache' }
      const res = await fetch(`http://127.0.0.1:${server.port}${url}`, { headers })
      expect(res.status).toBe(200)
      const ev = parseSse(await res.text())
      expect(ev.at(-1)!.event).toBe('run.completed')
      const again = await fetch(`http://127.0.0.1:${server.port}${url}`, { headers: { ...headers, 'last-event-id': ev.at(-2)!.id! } })
      expect(parseSse(await again.text()).map((e) => e.id)).toEqual([ev.at(-1)!.id])
    } finally {
      server.stop(true)
    }
  })

  test('a failed async run ends its stream with run.failed', async () => {
    env.llm.reply({ status: 400, error: 'upstream says no' })
    const r = await submit({ input: 'fail' })
    await until(async () => (await status(r.body.run_id)).body.status === 'error')
    const s = await status(r.body.run_id)
    expect(s.body.error).toBeTruthy()
    expect(s.body.code).toBeTruthy()
    const ev = parseSse(await (await events(r.body.events_url)).text())
    expect(ev.map((e) => e.event)[0]).toBe('run.started')
    expect(ev.at(-1)!.event).toBe('run.failed')
    expect(JSON.parse(ev.at(-1)!.data).error).toBe(s.body.error)
  })
})

describe('callbacks', () => {
  interface Hit { headers: Headers; body: string }
  let hits: Hit[], server: ReturnType<typeof Bun.serve>, answers: number[]
  beforeAll(() => {
    hits = []
    answers = []
    server = Bun.serve({ port: 0, hostname: '127.0.0.1', async fetch(r) { hits.push({ headers: r.headers, body: await r.text() }); return new Response('', { status: answers.shift() ?? 200 }) } })
  })
  afterAll(() => server.stop(true))

  test('the result is POSTed, signed with the endpoint key (HMAC-SHA256), retried after a failure', async () => {
    answers.push(500)
    env.llm.reply({ text: 'called back' })
    const url = `http://127.0.0.1:${server.port}/hook?x=1`
    const r = await submit({ input: 'with callback', callback_url: url })
    expect(r.status).toBe(202)
    await until(() => hits.length >= 2, 15_000, 'the callback retry')
    const [first, second] = hits
    expect(first.headers.get('x-agentbase-run-id')).toBe(r.body.run_id)
    expect([first.headers.get('x-agentbase-attempt'), second.headers.get('x-agentbase-attempt')]).toEqual(['1', '2'])
    for (const h of hits) {
      const ts = h.headers.get('x-agentbase-timestamp')!
      const sig = h.headers.get('x-agentbase-signature')!
      expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/)
      const expected = 'sha256=' + createHmac('sha256', ep.key).update(`${ts}.${h.body}`).digest('hex')
      expect(timingSafeEqual(Buffer.from(sig), Buffer.from(expected))).toBe(true)
      expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(60)
    }
    const body = JSON.parse(second.body)
    expect(body).toMatchObject({ type: 'run.completed', run_id: r.body.run_id, endpoint_id: ep.id, status: 'success', output: 'called back', tool_calls: [] })
    expect(body.usage.iterations).toBe(1)
    // The input text is not the whole body: callback_url is not part of it.
    expect(env.t.k.db.query<any, [string]>('SELECT input FROM runs WHERE id = ?').get(r.body.run_id).input).toBe('with callback')
    await until(async () => (await status(r.body.run_id)).body.callback?.status === 'delivered')
    expect((await status(r.body.run_id)).body.callback).toEqual({ url, status: 'delivered', attempts: 2, last_status: 200 })
  })

  test('Standard Webhooks: each attempt verifies with standardwebhooks and svix using the endpoint\'s whsec_ secret', async () => {
    const { Webhook } = await import('standardwebhooks')
    const { Webhook: SvixWebhook } = await import('svix')
    expect(ep.callbackSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(hits.length).toBeGreaterThanOrEqual(2)
    for (const h of hits) {
      const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((n) => [n, h.headers.get(n)!]))
      expect(headers['webhook-id']).toMatch(/^run_/)
      expect(new Webhook(ep.callbackSecret!).verify(h.body, headers)).toMatchObject({ type: 'run.completed' })
      const svixHeaders = { 'svix-id': headers['webhook-id'], 'svix-timestamp': headers['webhook-timestamp'], 'svix-signature': headers['webhook-signature'] }
      expect(new SvixWebhook(ep.callbackSecret!).verify(h.body, svixHeaders)).toMatchObject({ type: 'run.completed' })
      expect(() => new Webhook(ep.callbackSecret!).verify(h.body.replace('called back', 'pwned'), headers)).toThrow()
    }
    expect(new Set(hits.map((h) => h.headers.get('webhook-id'))).size).toBe(1) // stable across retries
    const other = 'whsec_' + Buffer.alloc(32, 7).toString('base64')
    expect(() => new Webhook(other).verify(hits[0].body, Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((n) => [n, hits[0].headers.get(n)!])))).toThrow()
  })

  test('regenerate-key shows a new callback secret', async () => {
    const r = await req('POST', `/api/agent-endpoints/${ep.id}/regenerate-key`, { token: alice.token })
    expect(r.status).toBe(200)
    expect(r.body.callback_secret).toMatch(/^whsec_/)
    expect(r.body.callback_secret).not.toBe(ep.callbackSecret)
    ep.key = r.body.api_key
    ep.callbackSecret = r.body.callback_secret
  })

  test('a tampered body does not verify', async () => {
    const h = hits.at(-1)!
    const ts = h.headers.get('x-agentbase-timestamp')!
    const forged = 'sha256=' + createHmac('sha256', ep.key).update(`${ts}.${h.body.replace('called back', 'pwned')}`).digest('hex')
    expect(forged).not.toBe(h.headers.get('x-agentbase-signature'))
  })

  const refused: Array<[string, unknown]> = [
    ['private address', 'http://10.1.2.3/hook'],
    ['metadata address', 'http://169.254.169.254/latest'],
    ['not http', 'ftp://example.com/x'],
    ['not a string', 42],
  ]
  for (const [name, url] of refused) {
    test(`callback_url refused (${name}): 400, nothing queued`, async () => {
      const before = count(env.t, 'runs')
      const r = await submit({ input: 'x', callback_url: url })
      expect(r.status).toBe(400)
      expect(r.body.error).toMatch(/callback_url|private or reserved|scheme/i)
      expect(count(env.t, 'runs')).toBe(before)
    })
  }
})

describe('the worker pool', () => {
  test('bounded concurrency, queue depth cap (429), and every queued run completes', async () => {
    const small = await epEnv({ config: { runConcurrency: 2, runQueueMax: 3 } })
    try {
      const u = await userWithWorkspace(small.t)
      const e = await createEndpoint(small.t, u, { name: 'Pool', async_mode: true, rate_limit_rpm: 1000 })
      const ids: string[] = []
      for (let i = 0; i < 3; i++) {
        const r = await small.t.req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: `p${i}` } })
        expect(r.status).toBe(202)
        ids.push(r.body.run_id)
      }
      const full = await small.t.req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: 'overflow' } })
      expect(full.status).toBe(429)
      expect(full.body.error).toMatch(/queue is full/)
      expect(full.headers.get('retry-after')).toBe('5')
      expect(count(small.t, 'runs')).toBe(3)
      small.llm.defaultReply = { text: 'pooled', delayMs: 150 }
      let maxRunning = 0
      small.t.k.workers.start(WORKER_NAME)
      await until(() => {
        maxRunning = Math.max(maxRunning, count(small.t, 'runs', "status = 'running'"))
        return count(small.t, 'runs', "status = 'success'") === 3
      }, 10_000, 'all pooled runs')
      expect(maxRunning).toBeGreaterThan(0)
      expect(maxRunning).toBeLessThanOrEqual(2)
      expect(small.t.k.metrics.render()).toContain('agentbase_run_queue_depth 0')
    } finally {
      small.close()
    }
  })

  test('start-up: queued runs resume; runs left running are failed with a reason (event, callback, status)', async () => {
    const e2 = await epEnv()
    const hits: string[] = []
    const rx = Bun.serve({ port: 0, hostname: '127.0.0.1', async fetch(r) { hits.push(await r.text()); return new Response('ok') } })
    try {
      const u = await userWithWorkspace(e2.t)
      const e = await createEndpoint(e2.t, u, { name: 'Recover', async_mode: true })
      const a = await e2.t.req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: 'was running', callback_url: `http://127.0.0.1:${rx.port}/cb` } })
      const b = await e2.t.req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: 'was queued' } })
      // As a crash would leave it: one run marked running with two events recorded, one still queued.
      e2.t.k.db.query("UPDATE runs SET status = 'running', started_at = created_at WHERE id = ?").run(a.body.run_id)
      for (const [seq, type] of [[1, 'run.started'], [2, 'text.delta']] as const) {
        e2.t.k.db.query('INSERT INTO run_events (run_id, seq, type, data, created_at) VALUES (?, ?, ?, ?, ?)')
          .run(a.body.run_id, seq, type, JSON.stringify({ type, run_id: a.body.run_id, text: 'par' }), '2026-03-14T10:00:00Z')
      }
      e2.t.k.workers.start(WORKER_NAME)
      await until(async () => (await e2.t.req('GET', b.body.status_url)).body.status === 'success', 10_000, 'queued run resumed')
      const sa = (await e2.t.req('GET', a.body.status_url)).body
      expect(sa.status).toBe('error')
      expect(sa.code).toBe('interrupted')
      expect(sa.error).toMatch(/server stopped while this run was in progress/)
      const ev = parseSse(await (await e2.t.app.handle(new Request(`http://localhost${a.body.events_url}`))).text())
      expect(ev.map((x) => [x.id, x.event])).toEqual([['1', 'run.started'], ['2', 'text.delta'], ['3', 'run.failed']])
      await until(() => hits.length === 1, 10_000, 'the callback of the failed run')
      expect(JSON.parse(hits[0])).toMatchObject({ type: 'run.failed', run_id: a.body.run_id, status: 'error', code: 'interrupted' })
      const published = e2.t.k.db.query<{ data: string }, []>("SELECT data FROM events WHERE type = 'run.failed'").all().map((r) => JSON.parse(r.data).run_id)
      expect(published).toContain(a.body.run_id)
      expect(count(e2.t, 'runs', "status IN ('queued', 'running')")).toBe(0)
    } finally {
      rx.stop(true)
      e2.close()
    }
  })

  test('deleting an endpoint mid-run stops its run and keeps the worker healthy', async () => {
    const carol = await userWithWorkspace(env.t)
    const e = await createEndpoint(env.t, carol, { name: 'Deleted mid-run', async_mode: true })
    const n = env.llm.requests.length
    env.llm.reply({ hang: true })
    const r = await submit({ input: 'x' }, e)
    await env.llm.waitForRequests(n + 1)
    expect((await req('DELETE', `/api/agent-endpoints/${e.id}`, { token: carol.token })).status).toBe(200)
    await env.llm.waitForAbort(n)
    expect(count(env.t, 'runs', 'id = ?', r.body.run_id)).toBe(0)
    const next = await submit({ input: 'after delete' })
    await until(async () => (await status(next.body.run_id)).body.status === 'success')
  })
})
