// SSRF: without an allowlist, webhook URLs on loopback, link-local (cloud metadata), private ranges and
// non-http schemes are refused at registration, and a URL that turns private later is refused at delivery.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { tableCounts, testApp } from './helpers'
import { startReceiver } from './fixtures/webhook-receiver'
import { deliveries } from '../src/events/delivery'

const t = testApp({ env: { AGENTBASE_OUTBOUND_ALLOW: '' } })
const rx = startReceiver()
let alice: { token: string; id: string }
beforeAll(async () => { alice = await t.user() })
afterAll(() => { rx.close(); t.close() })

const refused: Array<[string, RegExp]> = [
  [`${'http'}://127.0.0.1:${rx.port}/hook`, /private or reserved address \(127\.0\.0\.1\)/],
  [`https://127.0.0.1:${rx.port}/hook`, /private or reserved/],
  ['https://localhost/hook', /private or reserved/],
  ['https://[::1]/hook', /private or reserved/],
  ['https://169.254.169.254/latest/meta-data/', /private or reserved address \(169\.254\.169\.254\)/],
  ['https://[fd00::1]/hook', /private or reserved/],
  ['https://192.168.1.10/hook', /private or reserved/],
  ['https://0.0.0.0/hook', /private or reserved/],
  ['file:///etc/passwd', /scheme "file" is not allowed/],
  ['ftp://93.184.216.34/x', /scheme "ftp" is not allowed/],
  ['gopher://127.0.0.1:6379/_INFO', /scheme "gopher" is not allowed/],
]

for (const [url, error] of refused) {
  test(`refused at registration: ${url}`, async () => {
    const before = tableCounts(t.k)
    const r = await t.req('POST', '/api/webhooks', { token: alice.token, body: { url, events: ['*'] } })
    expect(r.status).toBe(400)
    expect(r.body.error).toMatch(error)
    expect(tableCounts(t.k)).toEqual(before)
  })
}

test('a stored URL that now resolves to loopback is refused at delivery: the receiver is never reached', async () => {
  // As if DNS changed after registration (rebinding): the guard runs again on every attempt.
  t.k.db.query(`INSERT INTO webhooks (id, owner_id, url, events, secret, enabled, created_at, updated_at)
                VALUES ('wh_rebound', ?, ?, '["*"]', ?, 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`)
    .run(alice.id, `http://127.0.0.1:${rx.port}/hook`, t.k.secrets.seal('whsec_' + Buffer.alloc(32, 1).toString('base64')))
  t.k.db.transaction(() => t.k.events.publishUnchecked('run.completed', { run_id: 'x' }, { ownerId: alice.id }))()
  await deliveries(t.k).runDue()
  expect(rx.received.length).toBe(0)
  const r = await t.req('GET', '/api/webhooks/wh_rebound/deliveries', { token: alice.token })
  expect(r.body.deliveries[0].status).toBe('pending')
  expect(r.body.deliveries[0].attempt_log[0]).toMatchObject({ status: null, error: expect.stringMatching(/private or reserved address \(127\.0\.0\.1\)/) })
})
