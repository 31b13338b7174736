/** Shared set-up for the agents suites: an app on a manual clock over the fake LLM, users, workflows, agents. */
import { expect } from 'bun:test'
import { epEnv, type EpEnv } from './endpoints-kit'
import { userWithWorkspace, type TestApp, type Who } from './helpers'
import { ManualClock } from '../src/clock'
import { schedulerService } from '../src/scheduler/index'

export const T0 = Date.parse('2026-05-04T10:00:00Z')

export interface AgentsEnv extends EpEnv { clock: ManualClock; alice: Who; bob: Who; tick(): Promise<number>; at(ms: number): Promise<number> }

export async function agentsEnv(start = T0): Promise<AgentsEnv> {
  const clock = new ManualClock(start)
  const env = await epEnv({ clock })
  const alice = await userWithWorkspace(env.t)
  const bob = await userWithWorkspace(env.t)
  const s = schedulerService(env.t.k).scheduler
  s.reconcile() // no housekeeping jobs here: only the agents' schedules fire
  const tick = async () => {
    const n = s.tick()
    await s.idle()
    return n
  }
  return { ...env, clock, alice, bob, tick, async at(ms: number) { clock.set(ms); return tick() } }
}

export async function workflow(t: TestApp, who: Who, steps: unknown[], name = 'wf'): Promise<string> {
  const r = await t.req('POST', '/api/workflows/from-steps', { token: who.token, body: { name, steps } })
  expect(r.status).toBe(201)
  return r.body.id
}

export async function deploy(t: TestApp, who: Who, workflowId: string, agentConfig?: unknown): Promise<any> {
  const r = await t.req('POST', '/api/agents', { token: who.token, body: { workflow_id: workflowId, ...(agentConfig !== undefined ? { agent_config: agentConfig } : {}) } })
  expect(r.status).toBe(201)
  return r.body
}

export async function schedule(t: TestApp, who: Who, agentId: string, config: Record<string, unknown>) {
  const r = await t.req('POST', '/api/agents/schedule', { token: who.token, body: { agent_id: agentId, schedule_config: config } })
  if (r.status !== 200) throw new Error(`schedule: ${r.status} ${r.text}`)
  return r.body
}

/** A workflow that echoes its input through a transform (fast, no model). */
export const echoSteps = [{ id: 'echo', type: 'transform', template: { got: '{{ input.n | default: 0 }}' } }]
/** Fails unless the input carries `must`. */
export const pickySteps = [{ id: 'need', type: 'transform', template: '{{ input.must }}' }]

export const agentEvents = (t: TestApp, type: string) =>
  t.k.db.query<{ data: string }, [string]>('SELECT data FROM events WHERE type = ? ORDER BY seq').all(type).map((r) => JSON.parse(r.data))
