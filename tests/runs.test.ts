/**
 * The run service (src/runs/, DESIGN §12) over HTTP: cancel, 204 for a finished run's resume, on_disconnect,
 * billing under concurrency (reserve before the model call, settle after), restart-safe queue.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createEndpoint, epEnv, parseSse, readSse, until, userWithWorkspace, count, type EpEnv, type Who } from './endpoints-kit'
import { WORKER_NAME } from '../src/runs/service'
import { runScenario } from './helpers'

let env: EpEnv, alice: Who, bob: Who
beforeAll(async () => {
  env = await epEnv()
  alice = await userWithWorkspace(env.t)
  bob = await userWithWorkspace(env.t)
  env.t.k.workers.start(WORKER_NAME)
})
afterAll(() => env.close())

const req = (...a: Parameters<EpEnv['t']['req']>) => env.t.req(...a)
const stream = (slug: string, key: string, body: unknown, signal?: AbortSignal) => env.t.app.handle(new Request(`http://localhost/api/run/${slug}`, {
  method: 'POST', signal, headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(body),
}))

describe('POST /api/runs/:id/cancel', () => {
  test('a running async run stops its upstream request and ends cancelled (run.failed, status cancelled)', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Cancel me', async_mode: true })
    const n = env.llm.requests.length
    env.llm.reply({ hang: true })
    const r = await req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: 'long' } })
    expect(r.status).toBe(202)
    await env.llm.waitForRequests(n + 1)
    const cancel = `/api/runs/${r.body.run_id}/cancel`
    await runScenario(env.t, { name: 'no credentials', method: 'POST', path: cancel, status: 401, refused: true })
    await runScenario(env.t, { name: 'another user', method: 'POST', path: cancel, token: bob.token, status: 404, error: /^Run not found$/, refused: true })
    await runScenario(env.t, { name: 'another endpoint\'s key', method: 'POST', path: cancel, headers: { 'x-api-key': 'aek_not_this_one' }, status: 404, refused: true })
    const c = await req('POST', `/api/runs/${r.body.run_id}/cancel`, { headers: { 'x-api-key': e.key } })
    expect(c.status).toBe(200)
    expect(c.body).toMatchObject({ run_id: r.body.run_id, endpoint_id: e.id, status: 'cancelled', code: 'cancelled' })
    await env.llm.waitForAbort(n)
    const events = parseSse((await req('GET', `${r.body.events_url}`)).text)
    expect(events.at(-1)!.event).toBe('run.failed')
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ code: 'cancelled' })
    const ev = env.t.k.db.query<{ data: string }, []>("SELECT data FROM events WHERE type = 'run.failed' ORDER BY seq DESC LIMIT 1").get()!
    expect(JSON.parse(ev.data)).toMatchObject({ run_id: r.body.run_id, source: 'endpoint', status: 'cancelled', code: 'cancelled' })
  })

  test('the owner cancels with a token; a finished run is answered unchanged', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Cancel owner', async_mode: true })
    const n = env.llm.requests.length
    env.llm.reply({ hang: true })
    const r = await req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: 'x' } })
    // Cancel only once the hanging reply is taken: cancelled earlier, it would stay queued for the next run.
    await env.llm.waitForRequests(n + 1)
    expect((await req('POST', `/api/runs/${r.body.run_id}/cancel`, { token: alice.token })).body.status).toBe('cancelled')
    const again = await req('POST', `/api/runs/${r.body.run_id}/cancel`, { token: alice.token })
    expect(again.status).toBe(200)
    expect(again.body.status).toBe('cancelled')
    const done = await createEndpoint(env.t, alice, { name: 'Cancel done' })
    const s = await req('POST', `/api/run/${done.slug}`, { headers: { 'x-api-key': done.key }, body: { input: 'x' } })
    expect(s.status).toBe(200)
    expect((await req('POST', `/api/runs/${s.body.run_id}/cancel`, { token: alice.token })).body.status).toBe('success')
  })
})

describe('GET /api/runs/:id/events', () => {
  test('a finished run asked for events after its last id answers 204 (EventSource stops reconnecting)', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Resume done', async_mode: true })
    const r = await req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: 'x' } })
    await until(() => env.t.k.runs.get(r.body.run_id)?.status === 'success')
    const all = parseSse((await req('GET', r.body.events_url)).text)
    const last = all.at(-1)!.id
    expect(all.at(-1)!.event).toBe('run.completed')
    const end = await req('GET', r.body.events_url, { headers: { 'last-event-id': String(last) } })
    expect(end.status).toBe(204)
    expect(end.text).toBe('')
    const before = await req('GET', r.body.events_url, { headers: { 'last-event-id': String(Number(last) - 1) } })
    expect(before.status).toBe(200)
    expect(parseSse(before.text).map((x) => x.event)).toEqual(['run.completed'])
  })
})

describe('on_disconnect', () => {
  test('"continue": the run finishes after the client went away and is re-joined at /api/runs/:id/events', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Keep going', enable_streaming: true })
    env.llm.reply({ text: 'one two three four five', tokenDelayMs: 60 })
    const ac = new AbortController()
    const res = await stream(e.slug, e.key, { input: 'hi', on_disconnect: 'continue' }, ac.signal)
    let runId = ''
    await readSse(res, (m) => { if (m.event === 'run.started') { runId = JSON.parse(m.data).run_id; return true } })
    ac.abort()
    expect(runId).toMatch(/^run_/)
    await until(() => env.t.k.runs.get(runId)?.status !== 'running')
    expect(env.t.k.runs.get(runId)).toMatchObject({ status: 'success', output: 'one two three four five', mode: 'stream' })
    const again = parseSse((await req('GET', `/api/runs/${runId}/events`, { headers: { 'x-api-key': e.key } })).text)
    expect(again[0].event).toBe('run.started')
    expect(again.at(-1)!.event).toBe('run.completed')
    expect(again.filter((x) => x.event === 'text.delta').map((x) => JSON.parse(x.data).text).join('')).toBe('one two three four five')
  })

  test('default "cancel": the dropped client stops the run; a bad value is a 400', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Stop on drop', enable_streaming: true })
    const bad = await req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: 'x', on_disconnect: 'maybe' } })
    expect(bad.status).toBe(400)
    expect(bad.body.details).toHaveProperty('on_disconnect')
    // A slow default answer, not a scripted one: a run cancelled before it calls the model (the stream is read
    // lazily) would leave a scripted reply queued for a later test.
    env.llm.defaultReply = { text: 'a b c d e f g h', tokenDelayMs: 100 }
    try {
      const ac = new AbortController()
      let runId = ''
      await readSse(await stream(e.slug, e.key, { input: 'hi' }, ac.signal), (m) => { if (m.event === 'run.started') { runId = JSON.parse(m.data).run_id; return true } })
      ac.abort()
      await until(() => env.t.k.runs.get(runId)?.status !== 'running')
      expect(env.t.k.runs.get(runId)!.status).toBe('cancelled')
    } finally { env.llm.defaultReply = { text: 'ok' } }
  })
})

describe('billing under concurrency (hardening 7)', () => {
  let billed: EpEnv, admin: Who, carol: Who
  beforeAll(async () => {
    billed = await epEnv({ env: { AGENTBASE_BILLING: 'on' } })
    admin = await userWithWorkspace(billed.t)
    carol = await userWithWorkspace(billed.t)
  })
  afterAll(() => billed.close())

  test('40 parallel paid runs against a 1-cent wallet: the overshoot is bounded by one run', async () => {
    const e = await createEndpoint(billed.t, carol, { name: 'Tiny wallet', rate_limit_rpm: 1000 })
    expect((await billed.t.req('POST', '/api/wallet/credit', { token: admin.token, body: { user_id: carol.id, amount_cents: 1 } })).status).toBe(200)
    billed.llm.defaultReply = { text: 'answer', delayMs: 150, usage: { input: 20_000, output: 5_000 } }
    const rs = await Promise.all(Array.from({ length: 40 }, () => billed.t.req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: 'x' } })))
    billed.llm.defaultReply = { text: 'ok' }
    const ok = rs.filter((r) => r.status === 200)
    expect(ok.length).toBe(1)
    expect(rs.filter((r) => r.status === 402).every((r) => r.body.code === 'wallet_empty')).toBe(true)
    const spent = count(billed.t, 'wallet_ledger', "user_id = ? AND kind = 'debit'", carol.id)
    expect(spent).toBe(1)
    const w = await billed.t.req('GET', '/api/wallet', { token: carol.token })
    // One run of 20k in + 5k out on gpt-4o-mini costs 0.6 cents: the balance stays above -1 run.
    expect(w.body.balance_cents).toBeCloseTo(1 - 0.6, 5)
  })
})

describe('typed wiring (register(k) before routes)', () => {
  test('domains wire into typed kernel services without createApp: tool providers, key resolvers, workers, run sources', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const { loadConfig } = await import('../src/config')
    const { createKernel } = await import('../src/kernel')
    const { registerDomains } = await import('../src/app')
    const { workspaceToolSet } = await import('../src/tools/workspace-tools')
    const dir = mkdtempSync(join(tmpdir(), 'agentbase-wiring-'))
    const k = createKernel(loadConfig({ AGENTBASE_DATA_DIR: dir, LOG_LEVEL: 'silent', AGENTBASE_PASSWORD_MEMORY_KIB: '1024' }))
    try {
      expect(k.tools.providers.size).toBe(0)
      registerDomains(k)
      registerDomains(k) // idempotent
      expect([...k.tools.providers.keys()].sort()).toEqual(['connections', 'mcp-servers', 'workflows'])
      expect(k.keyResolvers.has('bot_')).toBe(true)
      expect(k.workers.names()).toEqual(expect.arrayContaining(['runs', 'channels.inbox', 'webhooks.delivery', 'agent-endpoints.callbacks']))
      const names = (await workspaceToolSet(k, 'usr_nobody', null).list()).map((t) => t.name)
      expect(names).toContain('current_time')
      expect(JSON.stringify(k)).toContain(dir) // the kernel stays a valid Elysia seed (no cycle through its services)
    } finally {
      k.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('a bot spending cap under concurrency (hardening 7)', () => {
  test('40 parallel messages against a tiny cap: one model call, the rest answer the fallback; overshoot bounded by one run', async () => {
    const { createBot, activate } = await import('./bots-kit')
    const { handleIncoming } = await import('../plugins/bots/engine')
    const dan = await userWithWorkspace(env.t)
    const id = await createBot(env.t, dan, { spending_cap_cents: 0.5, fallback_message: 'Budget reached.' })
    await activate(env.t, dan, id)
    expect(env.llm.pending()).toBe(0) // a scripted reply left by an earlier test would answer the first call instead
    const before = env.llm.requests.length
    env.llm.defaultReply = { text: 'answer', delayMs: 150, usage: { input: 20_000, output: 5_000 } }
    const out = await Promise.all(Array.from({ length: 40 }, (_, i) => handleIncoming(env.t.k, id, { chatId: `c${i}`, userId: `u${i}`, text: 'hi' })))
    env.llm.defaultReply = { text: 'ok' }
    expect(env.llm.requests.length - before).toBe(1)
    expect(out.filter((r) => !r.failed).length).toBe(1)
    expect(out.filter((r) => r.error?.code === 'spending_cap').length).toBe(39)
    const bot = (await req('GET', `/api/bots/${id}`, { token: dan.token })).body.bot
    expect(bot.total_cost_cents).toBeCloseTo(0.6, 5) // one run of 0.6 cents: cap 0.5 + less than one run
  })
})

describe('logs an operator can use', () => {
  test('a failed run logs a warn line with its run id, the safe message and the request id of the request that started it', async () => {
    const { createLogger } = await import('../src/log')
    const { testApp, userWithWorkspace: withWs } = await import('./helpers')
    const { startFakeLlm } = await import('./fixtures/fake-llm')
    const llm = await startFakeLlm()
    const lines: any[] = []
    const t = testApp({ log: createLogger('info', (l) => lines.push(JSON.parse(l))), env: { OPENAI_BASE_URL: llm.openaiBase, OPENAI_API_KEY: 'sk-test' } })
    try {
      const who = await withWs(t)
      const e = await createEndpoint(t, who, { name: 'Logged' })
      llm.reply({ status: 400, error: 'the prompt was refused upstream' })
      const r = await t.req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key, 'x-request-id': 'req-log-check-1' }, body: { input: 'x' } })
      expect(r.status).toBeGreaterThanOrEqual(400)
      const warn = lines.find((l) => l.msg === 'run failed')
      expect(warn).toMatchObject({ level: 'warn', request_id: 'req-log-check-1', source: 'endpoint', source_id: e.id })
      expect(warn.run_id).toMatch(/^run_/)
      await until(() => lines.some((l) => l.msg === 'request' && l.request_id === 'req-log-check-1'))
      expect(lines.some((l) => l.level === 'error' || (l.level === 'warn' && l.request_id !== 'req-log-check-1' && l.run_id === warn.run_id))).toBe(false)
    } finally {
      t.close()
      llm.close()
    }
  })
})

describe('the service API (what a new surface uses)', () => {
  test('start(): events live, run.failed recorded when the surface\'s onFinish refuses, never left running', async () => {
    const spec = { systemPrompt: 'x', provider: 'openai' as const, model: 'gpt-4o-mini', ownerId: alice.id }
    const ok = await env.t.k.runs.start({ source: 'task', sourceId: null, ownerId: alice.id, workspaceId: alice.ws, spec, input: { message: 'hi' }, refs: { task_id: 'tsk_1' } })
    const types: string[] = []
    for await (const e of ok.events) types.push(e.type)
    expect(types[0]).toBe('run.started')
    expect(types.at(-1)).toBe('run.completed')
    expect(env.t.k.runs.get(ok.run.id)).toMatchObject({ source: 'task', status: 'success', mode: 'stream' })
    expect(env.t.k.runs.eventsAfter(ok.run.id, 0).map((e) => e.type)).toEqual(types)

    const bad = await env.t.k.runs.start({ source: 'task', sourceId: null, ownerId: alice.id, workspaceId: alice.ws, spec, input: { message: 'hi' }, onFinish: () => { throw new Error('the surface refused') } })
    let last = ''
    for await (const e of bad.events) last = e.type
    expect(last).toBe('run.failed')
    expect(env.t.k.runs.get(bad.run.id)).toMatchObject({ status: 'error', error_code: 'record_failed' })
  })

  test('keyed events: the same occurrence published twice is one row with one id', () => {
    const k = env.t.k
    const data = { user_id: alice.id, balance_cents: 1, threshold_cents: 100 }
    const a = k.db.transaction(() => k.events.publish('wallet.balance.low', data, { ownerId: alice.id, key: 'test:once' }))()
    const b = k.db.transaction(() => k.events.publish('wallet.balance.low', data, { ownerId: alice.id, key: 'test:once' }))()
    expect(b.id).toBe(a.id)
    expect(count(env.t, 'events', 'id = ?', a.id)).toBe(1)
    const c = k.db.transaction(() => k.events.publish('wallet.balance.low', data, { ownerId: alice.id, key: 'test:other' }))()
    expect(c.id).not.toBe(a.id)
  })
})
