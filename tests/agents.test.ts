import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { schedulerService } from '../src/scheduler/index'
import { agentEvents, agentsEnv, deploy, echoSteps, pickySteps, schedule, T0, workflow, type AgentsEnv } from './agents-kit'
import { expectRefused } from './helpers'
import { startCountingApi } from './fixtures/counting-api'

let e: AgentsEnv
// A fresh app per test: the manual clock does not refill rate-limit buckets.
beforeEach(async () => { e = await agentsEnv() })
afterEach(() => e.close())
const schedulerIdle = () => schedulerService(e.t.k).scheduler.idle()

describe('/api/agents', () => {
  test('deploy: 201 in the agent shape; another owner\'s or a missing workflow is 404; bad bodies 400', async () => {
    const { t, alice, bob } = e
    const wf = await workflow(t, alice, echoSteps, 'Echo')
    const a = await deploy(t, alice, wf, { instructions: 'Be brief.', model: 'gpt-4o-mini', input_data: { n: 2 }, budgets: { timeout_seconds: 30 } })
    expect(a.agent_id).toMatch(/^agt_/)
    expect(a).toMatchObject({ workflow_id: wf, workflow_name: 'Echo', status: 'active', trigger_type: 'manual', schedule: null, next_run_at: null })
    expect(a.agent_config).toEqual({ instructions: 'Be brief.', model: 'gpt-4o-mini', input_data: { n: 2 }, budgets: { timeout_seconds: 30 } })
    expect(a.created_at).toBe('2026-05-04T10:00:00Z')
    await expectRefused(t, { method: 'POST', path: () => '/api/agents', as: () => bob.token, body: { workflow_id: wf }, status: 404, error: /Workflow not found/ })
    await expectRefused(t, { method: 'POST', path: () => '/api/agents', as: () => alice.token, body: { workflow_id: 'wf_nope' }, status: 404 })
    await expectRefused(t, { method: 'POST', path: () => '/api/agents', as: () => alice.token, body: {}, status: 400 })
    await expectRefused(t, { method: 'POST', path: () => '/api/agents', as: () => alice.token, body: { workflow_id: wf, agent_config: { budgets: { timeout_seconds: 0 } } }, status: 400 })
    await expectRefused(t, { method: 'POST', path: () => '/api/agents', as: () => undefined, body: { workflow_id: wf }, status: 401 })
  })

  test('schedule: interval and cron answer the next 5 runs in the zone and in UTC; bad cron or zone is 400 naming the field', async () => {
    const { t, alice, bob } = e
    const a = await deploy(t, alice, await workflow(t, alice, echoSteps))
    const iv = await schedule(t, alice, a.agent_id, { type: 'interval', interval_seconds: 3600, timezone: 'Asia/Tokyo' })
    expect(iv.trigger_type).toBe('schedule')
    expect(iv.next_runs.map((r: any) => r.utc)).toEqual(['11', '12', '13', '14', '15'].map((h) => `2026-05-04T${h}:00:00Z`))
    expect(iv.next_runs.map((r: any) => r.local)).toEqual(['2026-05-04T20:00:00+09:00', '2026-05-04T21:00:00+09:00', '2026-05-04T22:00:00+09:00', '2026-05-04T23:00:00+09:00', '2026-05-05T00:00:00+09:00'])
    expect(iv.schedule).toEqual({
      type: 'interval', interval_seconds: 3600, cron: null, timezone: 'Asia/Tokyo', start_at: null, end_at: null, jitter_seconds: 0,
      overlap_policy: 'skip', catchup_policy: 'latest', catchup_window_seconds: null, pause_after_failures: null,
    })
    // Rescheduling replaces the spec: cron in New York.
    const cr = await schedule(t, alice, a.agent_id, { type: 'cron', cron: '0 9 * * 1-5', timezone: 'America/New_York', overlap_policy: 'buffer_one', catchup_policy: 'all', catchup_window_seconds: 7200, pause_after_failures: 3, jitter_seconds: 5, start_at: '2026-05-06T00:00:00Z', end_at: '2027-01-01T00:00:00Z' })
    expect(cr.timezone).toBe('America/New_York')
    expect(cr.next_runs).toEqual([
      { utc: '2026-05-06T13:00:00Z', local: '2026-05-06T09:00:00-04:00' }, { utc: '2026-05-07T13:00:00Z', local: '2026-05-07T09:00:00-04:00' },
      { utc: '2026-05-08T13:00:00Z', local: '2026-05-08T09:00:00-04:00' }, { utc: '2026-05-11T13:00:00Z', local: '2026-05-11T09:00:00-04:00' },
      { utc: '2026-05-12T13:00:00Z', local: '2026-05-12T09:00:00-04:00' },
    ])
    expect(cr.schedule).toMatchObject({ overlap_policy: 'buffer_one', catchup_policy: 'all', catchup_window_seconds: 7200, pause_after_failures: 3, jitter_seconds: 5, start_at: '2026-05-06T00:00:00Z', end_at: '2027-01-01T00:00:00Z' })
    const bad = async (cfg: Record<string, unknown>, field: string) => {
      const r = await t.req('POST', '/api/agents/schedule', { token: alice.token, body: { agent_id: a.agent_id, schedule_config: cfg } })
      expect(r.status).toBe(400)
      expect(Object.keys(r.body.details ?? {}).join(' ') + ' ' + r.body.error).toContain(field)
    }
    await bad({ type: 'cron', cron: '61 * * * *' }, 'schedule_config.cron')
    await bad({ type: 'cron', cron: '* * *' }, 'schedule_config.cron')
    await bad({ type: 'cron', cron: '0 9 * * *', timezone: 'Mars/Olympus' }, 'schedule_config.timezone')
    await bad({ type: 'interval' }, 'schedule_config.interval_seconds')
    await bad({ type: 'interval', interval_seconds: 60, start_at: 'tomorrow' }, 'schedule_config.start_at')
    await bad({ type: 'interval', interval_seconds: 60, start_at: '2026-06-01T00:00:00Z', end_at: '2026-05-01T00:00:00Z' }, 'schedule_config.end_at')
    await bad({ type: 'interval', interval_seconds: 60, jitter_seconds: 60 }, 'schedule_config.jitter_seconds')
    await bad({ type: 'interval', interval_seconds: 60, overlap_policy: 'sometimes' }, 'overlap_policy')
    await expectRefused(t, { method: 'POST', path: () => '/api/agents/schedule', as: () => bob.token, body: { agent_id: a.agent_id, schedule_config: { type: 'interval', interval_seconds: 60 } }, status: 404, error: /Agent not found/ })
  })

  test('the daylight-saving preview is what fires: New York 2026-03-08 and 2026-11-01 via the API', async () => {
    const env = await agentsEnv(Date.parse('2026-03-07T12:00:00Z'))
    try {
      const a = await deploy(env.t, env.alice, await workflow(env.t, env.alice, echoSteps))
      const s = await schedule(env.t, env.alice, a.agent_id, { type: 'cron', cron: '30 2 * * *', timezone: 'America/New_York', catchup_policy: 'none' })
      expect(s.next_runs.map((r: any) => r.local)).toEqual(['2026-03-09T02:30:00-04:00', '2026-03-10T02:30:00-04:00', '2026-03-11T02:30:00-04:00', '2026-03-12T02:30:00-04:00', '2026-03-13T02:30:00-04:00'])
      for (const r of s.next_runs.slice(0, 3)) await env.at(Date.parse(r.utc))
      const runs = env.t.k.db.query<{ slot: number }, []>('SELECT slot FROM agent_runs ORDER BY slot').all().map((r) => new Date(r.slot).toISOString().replace('.000', ''))
      expect(runs).toEqual(s.next_runs.slice(0, 3).map((r: any) => r.utc))
    } finally { env.close() }
    const nov = await agentsEnv(Date.parse('2026-11-01T04:10:00Z'))
    try {
      const b = await deploy(nov.t, nov.alice, await workflow(nov.t, nov.alice, echoSteps))
      const h = await schedule(nov.t, nov.alice, b.agent_id, { type: 'cron', cron: '*/30 * * * *', timezone: 'America/New_York', overlap_policy: 'allow_all' })
      expect(h.next_runs.map((r: any) => r.local)).toEqual(['2026-11-01T00:30:00-04:00', '2026-11-01T01:00:00-04:00', '2026-11-01T01:30:00-04:00', '2026-11-01T02:00:00-05:00', '2026-11-01T02:30:00-05:00'])
      for (const r of h.next_runs) await nov.at(Date.parse(r.utc))
      const slots = nov.t.k.db.query<{ slot: number }, []>('SELECT slot FROM agent_runs ORDER BY slot').all().map((r) => new Date(r.slot).toISOString().replace('.000', ''))
      expect(slots).toEqual(h.next_runs.map((r: any) => r.utc))
    } finally { nov.close() }
  })

  test('list, status in the reference shape, analytics; manual runs carry their input and are marked manual', async () => {
    const { t, alice, bob, llm } = e
    llm.reset()
    llm.defaultReply = { text: 'summary done', usage: { input: 100, output: 20 } }
    const wf = await workflow(t, alice, [{ id: 'think', type: 'llm', prompt: 'Summarise {{ input.topic }}' }], 'Summariser')
    const a = await deploy(t, alice, wf, { instructions: 'Answer in French.', model: 'gpt-4o' })
    const ok = await t.req('POST', `/api/agents/${a.agent_id}/execute`, { token: alice.token, body: { topic: 'cats' } })
    expect(ok.status).toBe(200)
    expect(ok.body.status).toBe('succeeded')
    expect(ok.body.run).toMatchObject({ trigger: 'manual', manual: true, status: 'succeeded', input: { topic: 'cats' }, output: 'summary done', error: null })
    expect(ok.body.run.execution_id).toMatch(/^wfx_/)
    expect(ok.body.run.tokens).toBe(120)
    expect(ok.body.run.cost_cents).toBeGreaterThan(0)
    // agent_config reached the llm step: the model and the instructions.
    const sent = llm.requests.at(-1)!.body
    expect(sent.model).toBe('gpt-4o')
    expect(JSON.stringify(sent.messages)).toContain('Answer in French.')
    expect(JSON.stringify(sent.messages)).toContain('Summarise cats')
    llm.defaultReply = { status: 500, error: 'upstream exploded' }
    const bad = await t.req('POST', `/api/agents/${a.agent_id}/execute`, { token: alice.token, body: { topic: 'dogs' } })
    expect(bad.status).toBe(200)
    expect(bad.body.run.status).toBe('failed')
    expect(bad.body.run.error).toBeTruthy()
    llm.defaultReply = { text: 'ok' }

    const list = await t.req('GET', '/api/agents', { token: alice.token })
    expect(list.status).toBe(200)
    expect(list.body.map((x: any) => x.agent_id)).toContain(a.agent_id)
    expect((await t.req('GET', '/api/agents', { token: bob.token })).body).toEqual([])

    const st = await t.req('GET', `/api/agents/${a.agent_id}/status`, { token: alice.token })
    expect(st.status).toBe(200)
    expect(Object.keys(st.body).sort()).toEqual(['agent_id', 'created_at', 'monitoring', 'performance_metrics', 'schedule', 'status', 'trigger_type', 'updated_at', 'workflow_id', 'workflow_name'])
    expect(st.body).toMatchObject({ agent_id: a.agent_id, workflow_id: wf, workflow_name: 'Summariser', status: 'active', trigger_type: 'manual', schedule: {} })
    expect(st.body.monitoring).toMatchObject({ execution_count: 2, success_count: 1, failure_count: 1, success_rate: 50, last_run_at: '2026-05-04T10:00:00Z', next_runs: [], missed_count: 0, skipped_count: 0, consecutive_failures: 0, running: 0 })
    expect(st.body.monitoring.last_error).toBe(bad.body.run.error)
    expect(st.body.performance_metrics.total_tokens).toBeGreaterThanOrEqual(120)
    expect(st.body.performance_metrics.total_cost_cents).toBeGreaterThan(0)
    expect(typeof st.body.performance_metrics.duration_ms_p50).toBe('number')
    expect(typeof st.body.performance_metrics.duration_ms_p95).toBe('number')

    const an = await t.req('GET', `/api/agents/${a.agent_id}/analytics`, { token: alice.token })
    expect(an.status).toBe(200)
    expect(an.body.executions_per_day).toEqual([{ date: '2026-05-04', executions: 2, succeeded: 1, failed: 1 }])
    expect(an.body.success_rate).toBe(50)
    expect(an.body.tokens.total).toBeGreaterThanOrEqual(120)
    expect(an.body.cost.total_cents).toBeGreaterThan(0)
    expect(an.body.common_errors).toEqual([{ error: bad.body.run.error, count: 1 }])
    expect(an.body.duration_ms.max).toBeGreaterThanOrEqual(an.body.duration_ms.p50)
    for (const p of ['status', 'analytics']) await expectRefused(t, { method: 'GET', path: () => `/api/agents/${a.agent_id}/${p}`, as: () => bob.token, status: 404 })
    expect(agentEvents(t, 'agent.run.completed').some((x) => x.agent_id === a.agent_id && x.manual === true && x.tokens === 120)).toBe(true)
    expect(agentEvents(t, 'agent.run.failed').some((x) => x.agent_id === a.agent_id && x.error === bad.body.run.error)).toBe(true)
  })

  test('scheduled fires run the workflow each slot with its input_data; status shows the next 5 runs', async () => {
    const { t, alice } = e
    e.clock.set(T0)
    const a = await deploy(t, alice, await workflow(t, alice, echoSteps), { input_data: { n: 7 } })
    await schedule(t, alice, a.agent_id, { type: 'interval', interval_seconds: 60 })
    await e.at(T0 + 60_000)
    await e.at(T0 + 120_000)
    const st = (await t.req('GET', `/api/agents/${a.agent_id}/status`, { token: alice.token })).body
    expect(st.trigger_type).toBe('schedule')
    expect(st.monitoring.execution_count).toBe(2)
    expect(st.monitoring.next_runs.map((r: any) => r.utc)).toEqual(['10:03', '10:04', '10:05', '10:06', '10:07'].map((m) => `2026-05-04T${m}:00Z`))
    const runs = t.k.db.query<{ trigger: string; output: string }, [string]>('SELECT trigger, output FROM agent_runs WHERE agent_id = ? ORDER BY started_at').all(a.agent_id)
    expect(runs).toEqual([{ trigger: 'scheduled', output: '{"got":7}' }, { trigger: 'scheduled', output: '{"got":7}' }])
    await t.req('DELETE', `/api/agents/${a.agent_id}`, { token: alice.token })
  })

  test('pause stops fires; resume applies the catch-up policy once and reports the missed slots', async () => {
    const { t, alice } = e
    e.clock.set(T0)
    const a = await deploy(t, alice, await workflow(t, alice, echoSteps))
    await schedule(t, alice, a.agent_id, { type: 'interval', interval_seconds: 60, catchup_policy: 'latest' })
    const p = await t.req('POST', `/api/agents/${a.agent_id}/pause`, { token: alice.token })
    expect(p.status).toBe(200)
    expect(p.body.status).toBe('paused')
    expect(p.body.next_run_at).toBeNull()
    expect(await e.at(T0 + 10 * 60_000 + 30_000)).toBe(0)
    expect((await t.req('GET', `/api/agents/${a.agent_id}/status`, { token: alice.token })).body.monitoring.next_runs).toEqual([])
    const r = await t.req('POST', `/api/agents/${a.agent_id}/resume`, { token: alice.token })
    expect(r.body.status).toBe('active')
    expect(await e.tick()).toBe(1)
    expect(await e.tick()).toBe(0) // never a burst beyond the policy
    const st = (await t.req('GET', `/api/agents/${a.agent_id}/status`, { token: alice.token })).body
    expect(st.monitoring.execution_count).toBe(1)
    expect(st.monitoring.missed_count).toBe(9)
    const run = t.k.db.query<{ trigger: string; slot: number }, [string]>('SELECT trigger, slot FROM agent_runs WHERE agent_id = ?').get(a.agent_id)!
    expect(run).toEqual({ trigger: 'catchup', slot: T0 + 10 * 60_000 })
    expect(agentEvents(t, 'agent.schedule.missed').filter((x) => x.agent_id === a.agent_id)).toEqual([
      { agent_id: a.agent_id, missed: 9, last_missed_slot: '2026-05-04T10:10:00Z', missed_count: 9, catchup_policy: 'latest' },
    ])
    await t.req('DELETE', `/api/agents/${a.agent_id}`, { token: alice.token })
  })

  test('pause_after_failures: the agent pauses itself and agent.schedule.failing is sent', async () => {
    const { t, alice } = e
    e.clock.set(T0)
    const a = await deploy(t, alice, await workflow(t, alice, pickySteps))
    await schedule(t, alice, a.agent_id, { type: 'interval', interval_seconds: 60, pause_after_failures: 2 })
    for (let i = 1; i <= 4; i++) await e.at(T0 + i * 60_000)
    const st = (await t.req('GET', `/api/agents/${a.agent_id}/status`, { token: alice.token })).body
    expect(st.status).toBe('paused')
    expect(st.monitoring).toMatchObject({ execution_count: 2, failure_count: 2, consecutive_failures: 2, paused_reason: 'failures' })
    expect(agentEvents(t, 'agent.schedule.failing').filter((x) => x.agent_id === a.agent_id)).toEqual([
      { agent_id: a.agent_id, consecutive_failures: 2, paused: true, last_error: st.monitoring.last_error },
    ])
    // A manual run with the needed input succeeds; resume clears the streak.
    const ok = await t.req('POST', `/api/agents/${a.agent_id}/execute`, { token: alice.token, body: { must: 'yes' } })
    expect(ok.body.run.status).toBe('succeeded')
    await t.req('POST', `/api/agents/${a.agent_id}/resume`, { token: alice.token })
    expect((await t.req('GET', `/api/agents/${a.agent_id}/status`, { token: alice.token })).body.monitoring.consecutive_failures).toBe(0)
    await t.req('DELETE', `/api/agents/${a.agent_id}`, { token: alice.token })
  })

  test('delete removes the agent, its schedule and runs; scopes guard the routes; templates are public and valid', async () => {
    const { t, alice, bob } = e
    const a = await deploy(t, alice, await workflow(t, alice, echoSteps))
    await schedule(t, alice, a.agent_id, { type: 'interval', interval_seconds: 60 })
    await expectRefused(t, { method: 'DELETE', path: () => `/api/agents/${a.agent_id}`, as: () => bob.token, status: 404 })
    for (const p of ['pause', 'resume', 'execute']) await expectRefused(t, { method: 'POST', path: () => `/api/agents/${a.agent_id}/${p}`, as: () => bob.token, body: {}, status: 404 })
    const ro = (await t.req('POST', '/api/tokens', { token: alice.token, body: { name: 'ro', scopes: ['agents.read'] } })).body.key
    expect((await t.req('GET', '/api/agents', { token: ro })).status).toBe(200)
    await expectRefused(t, { method: 'POST', path: () => `/api/agents/${a.agent_id}/pause`, as: () => ro, status: 403 })
    const d = await t.req('DELETE', `/api/agents/${a.agent_id}`, { token: alice.token })
    expect(d.body).toEqual({ deleted: true })
    expect((await t.req('GET', `/api/agents/${a.agent_id}/status`, { token: alice.token })).status).toBe(404)
    expect(t.k.db.query('SELECT 1 FROM schedules WHERE name = ?').get(`agent:${a.agent_id}`)).toBeNull()

    const tp = await t.req('GET', '/api/agents/templates')
    expect(tp.status).toBe(200)
    expect(tp.body.templates.length).toBe(5)
    const b = await deploy(t, alice, await workflow(t, alice, echoSteps))
    for (const tpl of tp.body.templates) {
      expect(tpl).toMatchObject({ id: expect.any(String), name: expect.any(String), workflow_template: { id: tpl.workflow_template_id } })
      // Built on a real workflow template, with its example input and a schedule that validates.
      const wt = await t.req('GET', `/api/templates/${tpl.workflow_template_id}`)
      expect(wt.status).toBe(200)
      expect(tpl.agent_config.input_data).toEqual(wt.body.data.input_example)
      const s = await schedule(t, alice, b.agent_id, tpl.schedule_config)
      expect(s.next_runs.length).toBe(5)
    }
  })

  test('manual runs respect the overlap policy: skip answers 409, buffer_one queues (202) then runs it', async () => {
    const { t, alice } = e
    const api = startCountingApi()
    api.delayMs = 300
    try {
      const slow = await workflow(t, alice, [{ id: 'post', type: 'tool', tool: 'http_request', parameters: { method: 'POST', url: `${api.url}/effect`, body: '{}' } }])
      const a = await deploy(t, alice, slow)
      await schedule(t, alice, a.agent_id, { type: 'interval', interval_seconds: 3600, overlap_policy: 'skip' })
      const first = t.req('POST', `/api/agents/${a.agent_id}/execute`, { token: alice.token, body: { n: 1 } })
      for (let i = 0; i < 200 && !api.requests.size; i++) await Bun.sleep(5)
      const second = await t.req('POST', `/api/agents/${a.agent_id}/execute`, { token: alice.token, body: { n: 2 } })
      expect(second.status).toBe(409)
      expect(second.body.code).toBe('overlap_skipped')
      expect((await first).body.run.status).toBe('succeeded')
      await schedule(t, alice, a.agent_id, { type: 'interval', interval_seconds: 3600, overlap_policy: 'buffer_one' })
      const third = t.req('POST', `/api/agents/${a.agent_id}/execute`, { token: alice.token, body: { n: 3 } })
      for (let i = 0; i < 200 && api.requests.size < 2; i++) await Bun.sleep(5)
      const fourth = await t.req('POST', `/api/agents/${a.agent_id}/execute`, { token: alice.token, body: { n: 4 } })
      expect(fourth.status).toBe(202)
      expect(fourth.body.status).toBe('buffered')
      await third
      await schedulerIdle()
      const runs = t.k.db.query<{ input: string; status: string }, [string]>('SELECT input, status FROM agent_runs WHERE agent_id = ? ORDER BY slot').all(a.agent_id)
      expect(runs.map((r) => [JSON.parse(r.input).n, r.status])).toEqual([[1, 'succeeded'], [3, 'succeeded'], [4, 'succeeded']])
      const st = (await t.req('GET', `/api/agents/${a.agent_id}/status`, { token: alice.token })).body
      expect(st.monitoring.skipped_count).toBe(1)
    } finally { api.close() }
  })
})
