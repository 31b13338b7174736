/** Runs are charged to the owner's wallet in the transaction that records them; AGENTBASE_BILLING=on refuses with 402. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createEndpoint, epEnv, userWithWorkspace, type EpEnv, type Who } from './endpoints-kit'

const ledger = (env: EpEnv, userId: string) =>
  env.t.k.db.query<{ amount_micro: number; kind: string; ref_type: string | null; ref_id: string | null }, [string]>(
    'SELECT amount_micro, kind, ref_type, ref_id FROM wallet_ledger WHERE user_id = ? ORDER BY rowid',
  ).all(userId)
const runsOf = (env: EpEnv, endpointId: string) =>
  env.t.k.db.query<{ id: string; cost_micro: number; charged_micro: number; status: string }, [string]>(
    'SELECT id, cost_micro, charged_micro, status FROM runs WHERE source_id = ? ORDER BY rowid',
  ).all(endpointId)

describe('billing off (default): costs recorded and debited, never refused', () => {
  let env: EpEnv, alice: Who
  beforeAll(async () => {
    env = await epEnv()
    alice = await userWithWorkspace(env.t)
  })
  afterAll(() => env.close())

  test('debits match the runs: platform LLM cost + price_per_run_cents, one ledger entry per run', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Priced', price_per_run_cents: 5 })
    env.llm.reply({ text: 'a', usage: { input: 1000, output: 500 } }, { text: 'b', usage: { input: 2000, output: 100 } })
    const outs = []
    for (let i = 0; i < 2; i++) {
      const r = await env.t.req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: 'x' } })
      expect(r.status).toBe(200)
      outs.push(r.body)
    }
    const runs = runsOf(env, e.id)
    const debits = ledger(env, alice.id).filter((l) => l.ref_type === 'run')
    expect(debits.map((d) => [d.ref_id, d.amount_micro, d.kind])).toEqual(runs.map((r) => [r.id, r.charged_micro, 'debit']))
    for (const [i, r] of runs.entries()) {
      expect(r.charged_micro).toBe(r.cost_micro) // the platform key: all of it
      expect(r.cost_micro).toBeGreaterThan(5_000_000) // more than the price alone
      expect(outs[i].usage.cost_cents).toBe(r.cost_micro / 1e6)
    }
    // gpt-4o-mini at the price table: the LLM part is exactly what the runtime computed.
    const w = await env.t.req('GET', '/api/wallet', { token: alice.token })
    expect(w.body.balance_cents).toBe(-runs.reduce((n, r) => n + r.charged_micro, 0) / 1e6)
    expect(w.body.billing_enforced).toBe(false)
  })

  test('own LLM key: only price_per_run_cents is charged; nothing when the price is 0', async () => {
    const byok = await createEndpoint(env.t, alice, { name: 'Byok', llm_api_key: 'sk-own', price_per_run_cents: 3 })
    const free = await createEndpoint(env.t, alice, { name: 'Byok free', llm_api_key: 'sk-own' })
    const before = ledger(env, alice.id).length
    await env.t.req('POST', `/api/run/${byok.slug}`, { headers: { 'x-api-key': byok.key }, body: { input: 'x' } })
    await env.t.req('POST', `/api/run/${free.slug}`, { headers: { 'x-api-key': free.key }, body: { input: 'x' } })
    expect(env.llm.requests.at(-1)!.headers.authorization).toBe('Bearer sk-own')
    const [r] = runsOf(env, byok.id)
    expect(r.charged_micro).toBe(3_000_000)
    expect(r.cost_micro).toBeGreaterThan(3_000_000)
    expect(runsOf(env, free.id)[0].charged_micro).toBe(0)
    const added = ledger(env, alice.id).slice(before)
    expect(added.map((l) => [l.ref_id, l.amount_micro])).toEqual([[r.id, 3_000_000]])
  })

  test('a failed run is not charged its price (only the LLM use)', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Priced fail', price_per_run_cents: 7 })
    env.llm.reply({ status: 400, error: 'nope' })
    expect((await env.t.req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: 'x' } })).status).toBeGreaterThanOrEqual(400)
    expect(runsOf(env, e.id)).toEqual([expect.objectContaining({ status: 'error', cost_micro: 0, charged_micro: 0 })])
  })
})

describe('AGENTBASE_BILLING=on', () => {
  let env: EpEnv, admin: Who, alice: Who
  beforeAll(async () => {
    env = await epEnv({ env: { AGENTBASE_BILLING: 'on' } })
    admin = await userWithWorkspace(env.t) // the first user is the admin
    alice = await userWithWorkspace(env.t)
  })
  afterAll(() => env.close())

  test('empty balance: 402 before the model is called, nothing recorded; after a credit, runs and is debited', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Billed' })
    const calls = env.llm.requests.length
    const r = await env.t.req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: 'x' } })
    expect(r.status).toBe(402)
    expect(r.body.code).toBe('wallet_empty')
    expect(env.llm.requests.length).toBe(calls)
    expect(runsOf(env, e.id)).toEqual([])
    const test = await env.t.req('POST', `/api/agent-endpoints/${e.id}/test`, { token: alice.token, body: { input: 'x' } })
    expect(test.status).toBe(402)

    const c = await env.t.req('POST', '/api/wallet/credit', { token: admin.token, body: { user_id: alice.id, amount_cents: 10 } })
    expect(c.status).toBe(200)
    const ok = await env.t.req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: 'x' } })
    expect(ok.status).toBe(200)
    const [run] = runsOf(env, e.id)
    const w = await env.t.req('GET', '/api/wallet', { token: alice.token })
    expect(w.body.balance_cents).toBe((10_000_000 - run.charged_micro) / 1e6)
    expect(run.charged_micro).toBeGreaterThan(0)
  })

  test('streaming and async endpoints are refused with 402 too', async () => {
    const carol = await userWithWorkspace(env.t)
    for (const extra of [{ enable_streaming: true }, { async_mode: true }]) {
      const e = await createEndpoint(env.t, carol, { name: 'Billed mode', ...extra })
      const r = await env.t.req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: 'x' } })
      expect(r.status).toBe(402)
      expect(runsOf(env, e.id)).toEqual([])
    }
  })

  test('own key and no price: nothing to charge, so it runs on an empty wallet', async () => {
    const dave = await userWithWorkspace(env.t)
    const e = await createEndpoint(env.t, dave, { name: 'Byok billed', llm_api_key: 'sk-own' })
    expect((await env.t.req('POST', `/api/run/${e.slug}`, { headers: { 'x-api-key': e.key }, body: { input: 'x' } })).status).toBe(200)
  })
})
