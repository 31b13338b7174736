/**
 * Cost budgets of scheduled agents (agent_config.budgets): max_cost_cents cuts a run short between steps
 * (the later steps never reach the model), max_cost_cents_per_day skips fires and refuses manual runs for
 * the rest of the UTC day. The fake LLM answers gpt-4o calls with 40,000 input and 1,000 output tokens:
 * 11 cents per call at gpt-4o prices ($2.50 / $10 per million).
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { agentEvents, agentsEnv, deploy, schedule, T0, workflow, type AgentsEnv } from './agents-kit'
import { expectRefused } from './helpers'

const CALL_CENTS = 11
const HOUR = 3_600_000
let e: AgentsEnv
beforeEach(async () => {
  e = await agentsEnv()
  e.llm.reset()
  e.llm.defaultReply = { text: 'done', usage: { input: 40_000, output: 1_000 } }
})
afterEach(() => e.close())

const llmStep = (id: string) => ({ id, type: 'llm', prompt: `Step ${id}` })
const status = async (id: string) => (await e.t.req('GET', `/api/agents/${id}/status`, { token: e.alice.token })).body
const runs = (id: string) => e.t.k.db.query<{ status: string; error: string | null; cost_cents: number; execution_id: string }, [string]>(
  'SELECT status, error, cost_cents, execution_id FROM agent_runs WHERE agent_id = ? ORDER BY started_at, id').all(id)

describe('agent cost budgets', () => {
  test('budgets are validated at the edge and shown back in the status agent_config', async () => {
    const { t, alice } = e
    const wf = await workflow(t, alice, [llmStep('a')])
    for (const budgets of [{ max_cost_cents: 0 }, { max_cost_cents: 0.001 }, { max_cost_cents_per_day: -5 }, { max_cost_cents: 'five' }, { max_cost_cents_per_day: 0 }]) {
      await expectRefused(t, { method: 'POST', path: () => '/api/agents', as: () => alice.token, body: { workflow_id: wf, agent_config: { budgets } }, status: 400 })
    }
    const a = await deploy(t, alice, wf, { model: 'gpt-4o', budgets: { max_cost_cents: 5, max_cost_cents_per_day: 250.5, timeout_seconds: 60 } })
    expect(a.agent_config.budgets).toEqual({ max_cost_cents: 5, max_cost_cents_per_day: 250.5, timeout_seconds: 60 })
    const st = await status(a.agent_id)
    expect(st.monitoring.budget).toEqual({
      max_cost_cents: 5, max_cost_cents_per_day: 250.5, spent_today_cents: 0, daily_budget_reached: false, resets_at: '2026-05-05T00:00:00Z',
      last_skip_reason: null, last_skipped_at: null,
    })
    const listed = (await t.req('GET', '/api/agents', { token: alice.token })).body.find((x: any) => x.agent_id === a.agent_id)
    expect(listed.agent_config.budgets.max_cost_cents).toBe(5)
    // The OpenAPI document describes both budgets.
    const doc = JSON.stringify((await t.req('GET', '/swagger/json')).body)
    expect(doc).toContain('max_cost_cents_per_day')
  })

  test('max_cost_cents: the step that takes the run past it is the last to reach the model; the run fails budget_exceeded', async () => {
    const { t, alice, llm } = e
    const wf = await workflow(t, alice, [llmStep('one'), llmStep('two'), llmStep('three'), { id: 'after', type: 'transform', template: 'never' }])
    // Under the budget: every step runs (the check can tell the two apart).
    const roomy = await deploy(t, alice, wf, { model: 'gpt-4o', budgets: { max_cost_cents: 100 } })
    const ok = await t.req('POST', `/api/agents/${roomy.agent_id}/execute`, { token: alice.token, body: {} })
    expect(ok.body.run.status).toBe('succeeded')
    expect(llm.requests.length).toBe(3)
    expect(ok.body.run.cost_cents).toBeCloseTo(3 * CALL_CENTS, 6)

    llm.reset()
    llm.defaultReply = { text: 'done', usage: { input: 40_000, output: 1_000 } }
    const tight = await deploy(t, alice, wf, { model: 'gpt-4o', budgets: { max_cost_cents: 15 } })
    await schedule(t, alice, tight.agent_id, { type: 'interval', interval_seconds: 3600 })
    await e.at(T0 + HOUR)
    expect(llm.requests.length).toBe(2) // "three" never reached the model
    const [run] = runs(tight.agent_id)
    expect(run.status).toBe('failed')
    expect(run.error).toMatch(/^The run exceeded its 15 cent cost budget/)
    expect(run.cost_cents).toBeCloseTo(2 * CALL_CENTS, 6)
    const ex = (await t.req('GET', `/api/workflows/executions/${run.execution_id}`, { token: alice.token })).body
    expect(ex.status).toBe('cancelled')
    expect(ex.error).toBe(run.error)
    expect(Object.keys(ex.step_results).sort()).toEqual(['one', 'two'])
    const failed = agentEvents(t, 'agent.run.failed').filter((x) => x.agent_id === tight.agent_id)
    expect(failed.map((x) => [x.code, x.error])).toEqual([['budget_exceeded', run.error]])
    const st = await status(tight.agent_id)
    expect(st.monitoring).toMatchObject({ execution_count: 1, failure_count: 1, consecutive_failures: 1, last_error: run.error })
    expect(st.performance_metrics.total_cost_cents).toBeCloseTo(2 * CALL_CENTS, 4)
  })

  test('max_cost_cents inside a loop of llm calls: no item after the one that crossed it', async () => {
    const { t, alice, llm } = e
    const wf = await workflow(t, alice, [{ id: 'each', type: 'loop', items: '{{ input.items }}', step: { id: 'ask', type: 'llm', prompt: 'Item {{ each.item }}' } }])
    const a = await deploy(t, alice, wf, { model: 'gpt-4o', budgets: { max_cost_cents: 25 }, input_data: { items: [1, 2, 3, 4, 5] } })
    const r = await t.req('POST', `/api/agents/${a.agent_id}/execute`, { token: alice.token, body: {} })
    expect(r.body.run.status).toBe('failed')
    expect(r.body.run.error).toMatch(/25 cent cost budget/)
    expect(llm.requests.length).toBe(3) // 11, 22, 33 > 25: items 4 and 5 never ran
    expect(llm.requests.every((q) => q.body.model === 'gpt-4o')).toBe(true) // agent_config.model reaches a loop's llm step
  })

  test('max_cost_cents_per_day: fires are skipped with the reason, manual runs refused (402), the next UTC day runs again', async () => {
    const { t, alice, llm } = e
    const wf = await workflow(t, alice, [llmStep('only')])
    const a = await deploy(t, alice, wf, { model: 'gpt-4o', budgets: { max_cost_cents_per_day: 20 } })
    await schedule(t, alice, a.agent_id, { type: 'interval', interval_seconds: 3600, catchup_policy: 'none' })
    expect(await e.at(T0 + HOUR)).toBe(1) // 11 cents: under 20
    expect(await e.at(T0 + 2 * HOUR)).toBe(1) // 22 cents: reached from now on
    expect(llm.requests.length).toBe(2)
    expect(await e.at(T0 + 3 * HOUR)).toBe(0)
    expect(llm.requests.length).toBe(2)
    const reason = "Skipped: the agent's daily cost budget of 20 cents (UTC day) is reached"
    let st = await status(a.agent_id)
    expect(st.monitoring).toMatchObject({ execution_count: 2, success_count: 2, skipped_count: 1 })
    expect(st.monitoring.budget).toMatchObject({
      max_cost_cents_per_day: 20, spent_today_cents: 2 * CALL_CENTS, daily_budget_reached: true, resets_at: '2026-05-05T00:00:00Z',
      last_skip_reason: reason, last_skipped_at: '2026-05-04T13:00:00Z',
    })
    const fire = t.k.db.query<{ status: string; error: string }, [number]>('SELECT status, error FROM schedule_fires WHERE slot = ?').get(T0 + 3 * HOUR)!
    expect(fire).toEqual({ status: 'skipped', error: reason })

    const manual = await t.req('POST', `/api/agents/${a.agent_id}/execute`, { token: alice.token, body: {} })
    expect(manual.status).toBe(402)
    expect(manual.body.code).toBe('budget_exceeded')
    expect(manual.body.error).toContain('daily cost budget of 20 cents')
    expect(manual.body.error).toContain('2026-05-05T00:00:00Z')
    expect(llm.requests.length).toBe(2)
    const an = (await t.req('GET', `/api/agents/${a.agent_id}/analytics`, { token: alice.token })).body
    expect(an.skipped_count).toBe(2) // the fire and the refused manual run
    expect(an.budget).toMatchObject({ daily_budget_reached: true, last_skip_reason: reason })

    for (let h = 4; h < 14; h++) await e.at(T0 + h * HOUR) // 14:00 .. 23:00 UTC: still today
    expect(llm.requests.length).toBe(2)
    expect(await e.at(Date.parse('2026-05-05T00:00:00Z'))).toBe(1) // a new UTC day
    expect(llm.requests.length).toBe(3)
    st = await status(a.agent_id)
    expect(st.monitoring).toMatchObject({ execution_count: 3, success_count: 3, skipped_count: 12 })
    expect(st.monitoring.budget).toMatchObject({ spent_today_cents: CALL_CENTS, daily_budget_reached: false, resets_at: '2026-05-06T00:00:00Z' })
    const again = await t.req('POST', `/api/agents/${a.agent_id}/execute`, { token: alice.token, body: {} })
    expect(again.status).toBe(200)
    expect(again.body.run.status).toBe('succeeded')
  })

  test('max_cost_cents_per_day on an agent without a schedule: the manual run after the spend is refused', async () => {
    const { t, alice, llm } = e
    const a = await deploy(t, alice, await workflow(t, alice, [llmStep('only')]), { model: 'gpt-4o', budgets: { max_cost_cents_per_day: 5 } })
    expect((await t.req('POST', `/api/agents/${a.agent_id}/execute`, { token: alice.token, body: {} })).body.run.status).toBe('succeeded')
    const refused = await t.req('POST', `/api/agents/${a.agent_id}/execute`, { token: alice.token, body: {} })
    expect(refused.status).toBe(402)
    expect(refused.body).toMatchObject({ code: 'budget_exceeded', details: { budget: 'max_cost_cents_per_day' } })
    expect(llm.requests.length).toBe(1)
    e.clock.set(Date.parse('2026-05-05T00:00:01Z'))
    expect((await t.req('POST', `/api/agents/${a.agent_id}/execute`, { token: alice.token, body: {} })).status).toBe(200)
  })
})
