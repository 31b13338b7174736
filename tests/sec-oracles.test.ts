import { afterAll, expect, test } from 'bun:test'
import { createEndpoint, epEnv, userWithWorkspace } from './endpoints-kit'
import { startReceiver } from './fixtures/webhook-receiver'
import { deliveries } from '../src/events/delivery'

/**
 * Issue 11 item 8: every answer about something that is not yours is byte-identical (status and body) to the
 * answer about something that does not exist, so nothing can be probed for existence.
 */

const env = await epEnv({ env: { AGENTBASE_BILLING: 'off' } })
const { t } = env
const rx = startReceiver()
afterAll(() => { rx.close(); env.close() })
const alice = await userWithWorkspace(t)
const bob = await userWithWorkspace(t)

const same = (a: { status: number; text: string }, b: { status: number; text: string }) => {
  expect(a.status).toBe(404)
  expect({ status: a.status, text: a.text }).toEqual({ status: b.status, text: b.text })
}

test("retrying another user's delivery answers exactly like a missing delivery", async () => {
  const h = await t.req('POST', '/api/webhooks', { token: alice.token, body: { url: `${rx.url}/a`, events: ['*'] } })
  rx.secrets.set('/a', h.body.secret)
  const test1 = await t.req('POST', `/api/webhooks/${h.body.webhook.id}/test`, { token: alice.token })
  expect(test1.status).toBeLessThan(300)
  await deliveries(t.k).runDue()
  const deliveryId = test1.body.delivery?.id ?? test1.body.id
  expect(deliveryId).toMatch(/^whd_/)
  const theirs = await t.req('POST', `/api/webhooks/deliveries/${deliveryId}/retry`, { token: bob.token })
  const missing = await t.req('POST', '/api/webhooks/deliveries/whd_doesnotexist00000000/retry', { token: bob.token })
  same(theirs, missing)
})

test("another user's endpoint slug with your JWT answers exactly like a missing slug", async () => {
  const ep = await createEndpoint(t, alice, { name: 'Private one' })
  const theirs = await t.req('POST', `/api/run/${ep.slug}`, { token: bob.token, body: { input: 'x' } })
  const missing = await t.req('POST', '/api/run/no-such-endpoint-slug', { token: bob.token, body: { input: 'x' } })
  same(theirs, missing)
})

test('a wrong access_token on a real run answers exactly like a missing run', async () => {
  const ep = await createEndpoint(t, alice, { name: 'Async one', async_mode: true })
  const r = await t.req('POST', `/api/run/${ep.slug}`, { headers: { authorization: `Bearer ${ep.key}` }, body: { input: 'x' } })
  expect(r.status).toBe(202)
  const wrong = await t.req('GET', `/api/runs/${r.body.run_id}?access_token=${'A'.repeat(32)}`)
  const missing = await t.req('GET', `/api/runs/run_doesnotexist0000000?access_token=${'A'.repeat(32)}`)
  same(wrong, missing)
  const wrongEvents = await t.req('GET', `/api/runs/${r.body.run_id}/events?access_token=${'A'.repeat(32)}`)
  const missingEvents = await t.req('GET', `/api/runs/run_doesnotexist0000000/events?access_token=${'A'.repeat(32)}`)
  same(wrongEvents, missingEvents)
})
