import { afterAll, expect, test } from 'bun:test'
import { startReceiver } from './fixtures/webhook-receiver'
import { createEndpoint, epEnv, userWithWorkspace } from './endpoints-kit'
import { testApp } from './helpers'
import { startFakeLlm } from './fixtures/fake-llm'
import { startFakePlatforms } from './fixtures/fake-platforms'
import { telegramKit } from './fixtures/channel-kit'
import { collect, run } from '../src/agent/run'
import { outboundLimits } from '../src/tools/outbound-limits'

/**
 * Issue 11 item 4: one tenant's slow upstream must not stall everyone's outbound traffic. Tenant A floods runs
 * against a model that never answers, and webhook deliveries to receivers that never answer; tenant B's run and
 * B's webhook still complete. No timing asserts: A's upstreams hang until the end, so B finishing at all (within a
 * generous bound far below any timeout) proves B did not wait behind A. A past its queue share gets 429s.
 */

const env = await epEnv({
  env: { AGENTBASE_OUTBOUND_PER_OWNER: '8', AGENTBASE_OUTBOUND_QUEUE_PER_OWNER: '40', AGENTBASE_BILLING: 'off' },
})
const { t } = env
// One provider host for everyone (the platform's): A's model never answers, everyone else's does.
env.llm.defaultReply = (r) => (r.body.model === 'slow-model' ? { hang: true } : { text: 'B answered' })
const slowRequests = () => env.llm.requests.filter((r) => r.body.model === 'slow-model').length
const rx = startReceiver()
const stopWorkers: Array<() => Promise<void> | void> = []
const flood = new AbortController()
afterAll(async () => {
  flood.abort()
  for (const s of stopWorkers) await s()
  rx.close(); env.close()
})

const a = await userWithWorkspace(t)
const b = await userWithWorkspace(t)

/** Resolves with `p`, or rejects after `ms` (a bound far above B's real latency, far below A's hang). */
const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms))])

test("300 hanging runs of one tenant: another tenant's run completes; the flood is held to its share and told 429 past its queue", async () => {
  const specA = { systemPrompt: '', provider: 'openai' as const, model: 'slow-model', ownerId: a.id, timeoutMs: 60_000 }
  const runsA = Array.from({ length: 300 }, () => collect(run(t.k, specA, { message: 'slow' }, { signal: flood.signal })))
  await within((async () => { while (slowRequests() < 8) await Bun.sleep(5) })(), 10_000, "A's first requests")

  const ep = await createEndpoint(t, b, { name: 'B endpoint' })
  const r = await within(t.req('POST', `/api/run/${ep.slug}`, { headers: { authorization: `Bearer ${ep.key}` }, body: { input: 'hi' } }), 10_000, "tenant B's run")
  expect(r.status).toBe(200)
  expect(r.body.output).toBe('B answered')

  // A holds exactly its share upstream (8 running, 40 waiting); the rest were refused with 429.
  const load = () => outboundLimits(t.k).ownerLoad(a.id)
  await within((async () => { while (load().waiting < 40) await Bun.sleep(5) })(), 10_000, "A's queue filling")
  expect(load()).toEqual({ active: 8, waiting: 40 })
  expect(slowRequests()).toBe(8)
  flood.abort()
  const results = await within(Promise.all(runsA), 10_000, "A's runs ending")
  const refused = results.filter((x) => !x.ok && x.status === 429 && x.code === 'outbound_busy')
  expect(refused.length).toBe(300 - 48)
  expect(results.filter((x) => x.ok).length).toBe(0)
  expect(load()).toEqual({ active: 0, waiting: 0 })
})

test("one tenant's hanging webhook receivers: another tenant's delivery still goes out", async () => {
  let release!: () => void
  const hung = new Promise<void>((r) => { release = r })
  rx.respond = async (req) => {
    if (req.path.startsWith('/a')) await hung
    return new Response('ok')
  }
  for (let i = 0; i < 10; i++) {
    const h = await t.req('POST', '/api/webhooks', { token: a.token, body: { url: `${rx.url}/a${i}`, events: ['*'] } })
    expect(h.status).toBe(201)
    rx.secrets.set(`/a${i}`, h.body.secret)
  }
  const hb = await t.req('POST', '/api/webhooks', { token: b.token, body: { url: `${rx.url}/b`, events: ['*'] } })
  rx.secrets.set('/b', hb.body.secret)
  for (let i = 0; i < 20; i++) t.k.db.transaction(() => t.k.events.publishUnchecked('run.completed', { run_id: `run_a${i}` }, { ownerId: a.id }))()

  t.k.workers.start('webhooks.delivery')
  stopWorkers.push(() => { release(); return t.k.workers.stopAll() })
  await within((async () => { while (rx.open < 8) await Bun.sleep(5) })(), 10_000, "A's first deliveries")

  t.k.db.transaction(() => t.k.events.publishUnchecked('run.completed', { run_id: 'run_b' }, { ownerId: b.id }))()
  await within((async () => { while (!rx.received.some((x) => x.path === '/b')) await Bun.sleep(5) })(), 10_000, "tenant B's delivery")
  expect(rx.received.find((x) => x.path === '/b')!.verified).toBe(true)
  expect(rx.maxOpen).toBeLessThanOrEqual(8 + 1) // A's share, plus B's one
  release()
})

test("one tenant's bots with a hanging model: another tenant's bot still answers its platform message", async () => {
  const fake = await startFakePlatforms()
  const llm = await startFakeLlm()
  llm.defaultReply = (r) => (r.body.model === 'slow-model' ? { hang: true } : { text: 'B bot answered' })
  // A small pool (8 conversations at once) and a share of 4 per owner.
  const c = testApp({ env: { ...fake.env, OPENAI_BASE_URL: llm.openaiBase, OPENAI_API_KEY: 'sk-test', AGENTBASE_CHANNEL_CONCURRENCY: '8', AGENTBASE_OUTBOUND_PER_OWNER: '4' } })
  try {
    c.k.workers.start('channels.inbox')
    const botOf = async (who: { token: string; ws: string }, token: string, model: string) => {
      const r = await c.req('POST', '/api/bots', { token: who.token, body: { name: 'T', platform: 'telegram', workspace_id: who.ws, system_prompt: 'x', llm_provider: 'openai', llm_model: model, platform_config: { ...telegramKit.config, bot_token: token } } })
      expect(r.status).toBe(201)
      expect((await c.req('POST', `/api/bots/${r.body.bot.id}/activate`, { token: who.token })).status).toBe(200)
      return r.body.bot.id as string
    }
    const ca = await userWithWorkspace(c)
    const cb = await userWithWorkspace(c)
    const botA = await botOf(ca, '111:slow-tenant', 'slow-model')
    const botB = await botOf(cb, '222:other-tenant', 'gpt-4o-mini')
    const deliver = (bot: string, id: number, chat: string) => {
      const u = telegramKit.request({ id, chat, user: '42', text: 'hi' })
      return c.req('POST', `/api/bots/webhook/telegram/${bot}`, { raw: u.raw, headers: u.headers })
    }
    for (let i = 0; i < 20; i++) expect((await deliver(botA, 1000 + i, String(7000 + i))).status).toBe(200)
    await within((async () => { while (llm.requests.filter((r) => r.body.model === 'slow-model').length < 4) await Bun.sleep(5) })(), 10_000, "A's first runs")
    expect((await deliver(botB, 1, '8001')).status).toBe(200)
    await within(fake.waitFor((x) => x.method === 'sendMessage' && String(x.body.chat_id) === '8001'), 10_000, "tenant B's reply")
    expect(fake.callsOf('telegram', 'sendMessage').find((x) => String(x.body.chat_id) === '8001')!.body.text).toBe('B bot answered')
  } finally {
    c.k.workers.stopAll().catch(() => {})
    c.close(); llm.close(); fake.close()
  }
})

test("one tenant's queued async runs on a hanging model: another tenant's queued run still runs", async () => {
  const e = await epEnv({ env: { AGENTBASE_RUN_CONCURRENCY: '4', AGENTBASE_BILLING: 'off', AGENTBASE_SHUTDOWN_GRACE_MS: '200' } })
  e.llm.defaultReply = (r) => (r.body.model === 'slow-model' ? { hang: true } : { text: 'B async answer' })
  e.t.k.workers.start()
  try {
    const ea = await userWithWorkspace(e.t)
    const eb = await userWithWorkspace(e.t)
    const epA = await createEndpoint(e.t, ea, { name: 'A async', async_mode: true, llm_model: 'slow-model', rate_limit_rpm: 1000 })
    const epB = await createEndpoint(e.t, eb, { name: 'B async', async_mode: true, rate_limit_rpm: 1000 })
    for (let i = 0; i < 10; i++) {
      const r = await e.t.req('POST', `/api/run/${epA.slug}`, { headers: { authorization: `Bearer ${epA.key}` }, body: { input: `a${i}` } })
      expect(r.status).toBe(202)
    }
    await within((async () => { while (e.llm.requests.filter((r) => r.body.model === 'slow-model').length < 3) await Bun.sleep(5) })(), 10_000, "A's first runs")
    const rb = await e.t.req('POST', `/api/run/${epB.slug}`, { headers: { authorization: `Bearer ${epB.key}` }, body: { input: 'b' } })
    expect(rb.status).toBe(202)
    const done = await within((async () => {
      for (;;) {
        const s = await e.t.req('GET', rb.body.status_url)
        if (s.body.status !== 'queued' && s.body.status !== 'running') return s.body
        await Bun.sleep(20)
      }
    })(), 10_000, "tenant B's queued run")
    expect(done.status).toBe('success')
    // A holds at most its share of the 4 slots (3), never all of them.
    expect(e.llm.requests.filter((r) => r.body.model === 'slow-model').length).toBe(3)
  } finally {
    await e.t.k.workers.stopAll().catch(() => {})
    e.close()
  }
})
