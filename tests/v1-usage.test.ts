/** Usage analytics from the rollup (runs at known times on an injected clock) and monthly invoices. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { ManualClock } from '../src/clock'
import { createEndpoint, epEnv, userWithWorkspace, type EpEnv, type Ep, type Who } from './endpoints-kit'
import { createMonthlyInvoices } from '../plugins/wallet/invoices'
import { deliveries } from '../src/events/delivery'
import { startReceiver, type Receiver } from './fixtures/webhook-receiver'

const clock = new ManualClock(Date.parse('2026-03-14T10:15:00Z'))
let env: EpEnv
let alice: Who
let ep: Ep
let other: Ep
let pat: string
let rx: Receiver

const at = (t: string) => clock.set(Date.parse(t))

beforeAll(async () => {
  env = await epEnv({ clock })
  rx = startReceiver({ clock })
  alice = await userWithWorkspace(env.t)
  ep = await createEndpoint(env.t, alice, { name: 'Counter' })
  other = await createEndpoint(env.t, alice, { name: 'Other', llm_model: 'gpt-4o' })
  pat = (await env.t.req('POST', '/api/tokens', { token: alice.token, body: { name: 'usage' } })).body.key
  // 10:15 a task (channel api, this token); 10:45 an OpenAI-compatible call; 12:05 a failing /api/run with the endpoint key;
  // 2026-03-15 09:00 a run of the other agent.
  env.llm.reply({ text: 'a', usage: { input: 100, output: 10 } })
  await env.t.req('POST', `/v1/agents/${ep.id}/message?wait=true`, { token: pat, body: { content: 'x' } })
  at('2026-03-14T10:45:00Z')
  env.llm.reply({ text: 'b', usage: { input: 200, output: 20 } })
  await env.t.req('POST', '/v1/chat/completions', { token: pat, body: { model: ep.slug, messages: [{ role: 'user', content: 'y' }] } })
  at('2026-03-14T12:05:00Z')
  env.llm.reply({ status: 400, error: 'nope' })
  await env.t.req('POST', `/api/run/${ep.slug}`, { body: { input: 'z' }, headers: { authorization: `Bearer ${ep.key}` } })
  at('2026-03-15T09:00:00Z')
  env.llm.reply({ text: 'c', usage: { input: 1, output: 1 } })
  await env.t.req('POST', `/v1/agents/${other.id}/message?wait=true`, { token: pat, body: { content: 'w' } })
})
afterAll(() => { rx.close(); env.close() })

const usage = (q: string) => env.t.req('GET', `/v1/analytics/usage?${q}`, { token: pat })

test('hour buckets grouped by channel', async () => {
  const r = await usage('from=2026-03-14T10:00:00Z&to=2026-03-14T13:00:00Z&bucket=hour&group_by=channel')
  expect(r.status).toBe(200)
  expect(r.body.data).toEqual([
    { bucket: '2026-03-14T10:00:00Z', group: 'api', runs: 1, tokens_input: 100, tokens_output: 10, cost_cents: expect.any(Number), errors: 0 },
    { bucket: '2026-03-14T10:00:00Z', group: 'openai', runs: 1, tokens_input: 200, tokens_output: 20, cost_cents: expect.any(Number), errors: 0 },
    { bucket: '2026-03-14T12:00:00Z', group: 'api', runs: 1, tokens_input: 0, tokens_output: 0, cost_cents: 0, errors: 1 },
  ])
  expect(r.body.totals).toMatchObject({ runs: 3, tokens_input: 300, tokens_output: 30, errors: 1 })
  expect(r.body.data[0].cost_cents).toBeGreaterThan(0)
})

test('day buckets by agent and by model; by token', async () => {
  const byAgent = await usage('from=2026-03-14&to=2026-03-16&bucket=day&group_by=agent')
  expect(byAgent.body.data.map((d: any) => [d.bucket, d.group, d.runs])).toEqual([
    ['2026-03-14T00:00:00Z', ep.id, 3],
    ['2026-03-15T00:00:00Z', other.id, 1],
  ])
  const byModel = await usage('from=2026-03-14&to=2026-03-16&bucket=day&group_by=model')
  expect(byModel.body.data.map((d: any) => [d.group, d.runs])).toEqual([['gpt-4o-mini', 3], ['gpt-4o', 1]])
  // A range that does not fall on whole days folds hour rows into days.
  const partial = await usage('from=2026-03-14T11:00:00Z&to=2026-03-15T10:00:00Z&bucket=day&group_by=agent')
  expect(partial.body.data.map((d: any) => [d.bucket, d.group, d.runs, d.errors])).toEqual([
    ['2026-03-14T00:00:00Z', ep.id, 1, 1],
    ['2026-03-15T00:00:00Z', other.id, 1, 0],
  ])
  const byToken = await usage('from=2026-03-14&to=2026-03-15&group_by=token')
  const tokens = Object.fromEntries(byToken.body.data.map((d: any) => [d.group, d.runs]))
  expect(Object.values(tokens).reduce((a: any, b: any) => a + b, 0)).toBe(3)
  expect(tokens.endpoint_key).toBe(1)
  expect(Object.keys(tokens).filter((x) => x.startsWith('tok_'))).toHaveLength(1)
})

test('the range is [from, to); bad parameters are 400', async () => {
  expect((await usage('from=2026-03-14T11:00:00Z&to=2026-03-14T12:00:00Z&bucket=hour')).body.data).toEqual([])
  expect((await usage('from=yesterday')).status).toBe(400)
  expect((await usage('bucket=week')).status).toBe(400)
  expect((await usage('from=2026-03-15&to=2026-03-14')).status).toBe(400)
})

test('the rollup is what answers: the figures survive the run rows being purged (no scan of runs)', async () => {
  const before = (await usage('from=2026-03-14&to=2026-03-16&group_by=agent')).body
  env.t.k.db.query('DELETE FROM runs').run()
  const after = (await usage('from=2026-03-14&to=2026-03-16&group_by=agent')).body
  expect(after).toEqual(before)
  expect(after.totals.runs).toBe(4)
})

test('monthly invoices from the wallet ledger: once per user and month, billing.invoice.created delivered', async () => {
  const path = '/inv'
  const hook = await env.t.req('POST', '/v1/webhooks', { token: pat, body: { url: rx.url + path, events: ['billing.invoice.created'] } })
  rx.secrets.set(path, hook.body.secret)
  at('2026-04-02T00:00:00Z')
  const made = createMonthlyInvoices(env.t.k)
  expect(made).toHaveLength(1)
  expect(made[0]).toMatchObject({ user_id: alice.id, period: '2026-03' })
  expect(made[0].total_cents).toBeGreaterThan(0)
  expect(createMonthlyInvoices(env.t.k)).toEqual([]) // idempotent
  const list = await env.t.req('GET', '/api/wallet/invoices', { token: pat })
  expect(list.body.invoices.map((i: any) => i.id)).toEqual([made[0].id])
  await deliveries(env.t.k).runDue()
  await rx.waitFor(1)
  const got = rx.received.find((x) => x.path === path)!
  expect(got.verified).toBe(true)
  expect(got.json).toMatchObject({ type: 'billing.invoice.created', data: { invoice_id: made[0].id, period: '2026-03' } })
  const { EVENT_CATALOG } = await import('../src/events/catalog')
  const { validate } = await import('../src/agent/schema')
  expect(validate(EVENT_CATALOG['billing.invoice.created'].schema as Record<string, unknown>, got.json.data)).toBeNull()
})

test('the monthly invoice run is a system schedule (00:05 UTC on the 1st)', async () => {
  const { schedulerService } = await import('../src/scheduler/index')
  schedulerService(env.t.k).boot()
  const row = env.t.k.db.query<Record<string, unknown>, []>("SELECT * FROM schedules WHERE name = 'system:invoices'").get()
  expect(row).toMatchObject({ handler: 'billing.invoices' })
  expect(new Date(Number(row!.next_run_at)).toISOString()).toMatch(/-01T00:05:00/)
})
