/** Scheduled agents publish /v1's agent.status.changed (type "scheduled") and it matches the catalog schema. */
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { EVENT_CATALOG } from '../src/events/catalog'
import { validate } from '../src/agent/schema'
import { agentEvents, agentsEnv, deploy, echoSteps, pickySteps, schedule, T0, workflow, type AgentsEnv } from './agents-kit'

let e: AgentsEnv
beforeEach(async () => { e = await agentsEnv() })
afterEach(() => e.close())

const statusEvents = (id: string) => agentEvents(e.t, 'agent.status.changed').filter((x) => x.agent_id === id)
const schema = EVENT_CATALOG['agent.status.changed'].schema as Record<string, unknown>
const flip = (status: string, previous: string) => ({ type: 'scheduled', status, previous_status: previous })

test('deploy, pause (twice: the second flips nothing, so no event), resume and delete each publish agent.status.changed', async () => {
  const { t, alice } = e
  const a = await deploy(t, alice, await workflow(t, alice, echoSteps))
  expect((await t.req('POST', `/api/agents/${a.agent_id}/pause`, { token: alice.token })).status).toBe(200)
  expect((await t.req('POST', `/api/agents/${a.agent_id}/pause`, { token: alice.token })).status).toBe(200)
  expect((await t.req('POST', `/api/agents/${a.agent_id}/resume`, { token: alice.token })).status).toBe(200)
  expect((await t.req('DELETE', `/api/agents/${a.agent_id}`, { token: alice.token })).status).toBe(200)
  const seen = statusEvents(a.agent_id)
  expect(seen).toEqual([flip('online', 'offline'), flip('offline', 'online'), flip('online', 'offline'), flip('offline', 'online')].map((x) => ({ agent_id: a.agent_id, ...x })))
  for (const data of seen) expect(validate(schema, data)).toBeNull()
})

test('an agent that pauses itself after failures goes offline once', async () => {
  const { t, alice } = e
  e.clock.set(T0)
  const a = await deploy(t, alice, await workflow(t, alice, pickySteps))
  await schedule(t, alice, a.agent_id, { type: 'interval', interval_seconds: 60, pause_after_failures: 2 })
  for (let i = 1; i <= 4; i++) await e.at(T0 + i * 60_000)
  expect((await t.req('GET', `/api/agents/${a.agent_id}/status`, { token: alice.token })).body.status).toBe('paused')
  const seen = statusEvents(a.agent_id)
  expect(seen).toEqual([{ agent_id: a.agent_id, ...flip('online', 'offline') }, { agent_id: a.agent_id, ...flip('offline', 'online') }])
  for (const data of seen) expect(validate(schema, data)).toBeNull()
})
