// Domains publish into the outbox inside their own transactions, and those events reach signed webhooks:
// endpoint activation (endpoint.status.changed) and a run over the fake LLM (run.completed / run.failed).
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createEndpoint, epEnv, userWithWorkspace, type EpEnv, type Who } from './endpoints-kit'
import { startReceiver } from './fixtures/webhook-receiver'
import { deliveries } from '../src/events/delivery'

let env: EpEnv, alice: Who
const rx = startReceiver()
beforeAll(async () => {
  env = await epEnv()
  alice = await userWithWorkspace(env.t)
  const h = await env.t.req('POST', '/api/webhooks', { token: alice.token, body: { url: `${rx.url}/all`, events: ['*'] } })
  rx.secrets.set('/all', h.body.secret)
})
afterAll(() => { env.close(); rx.close() })

const types = () => rx.received.map((r) => r.json?.type)

test('endpoint activation and runs are delivered as signed events with their data', async () => {
  const ep = await createEndpoint(env.t, alice, { slug: 'hooked' })
  await deliveries(env.t.k).runDue()
  const status = rx.received.find((r) => r.json?.type === 'endpoint.status.changed')!
  expect(status.json.data).toMatchObject({ endpoint_id: ep.id, slug: 'hooked', status: 'active' })

  env.llm.reply({ text: 'summary' })
  const ok = await env.t.req('POST', '/api/run/hooked', { headers: { authorization: `Bearer ${ep.key}` }, body: { input: 'long text' } })
  expect(ok.status).toBe(200)
  env.llm.reply({ status: 401, error: 'invalid api key' })
  await env.t.req('POST', '/api/run/hooked', { headers: { authorization: `Bearer ${ep.key}` }, body: { input: 'again' } })
  await deliveries(env.t.k).runDue()
  const done = rx.received.find((r) => r.json?.type === 'run.completed')!
  expect(done.json.data.run_id).toBe(ok.body.run_id)
  expect(done.json.data.endpoint_id).toBe(ep.id)
  expect(types()).toContain('run.failed')
  expect(rx.received.every((r) => r.verified)).toBe(true)
  expect(new Set(rx.received.map((r) => r.id)).size).toBe(rx.received.length) // one delivery per event
})
