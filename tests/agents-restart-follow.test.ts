/**
 * The real server (a child process) fires two agents whose workflows wait 5 s (a durable delay step) and then
 * finish: one succeeds, one fails. It is SIGKILLed during the delay and restarted on the same data dir. The
 * workflow engine resumes both executions; each agent run follows its execution to the real outcome (not
 * "interrupted"), with one agent.run.* event each, the failure streak counted once, and the run's duration
 * counted from its original start.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database } from 'bun:sqlite'
import { callServer, freePort, killAll, signUp, startServerProcess } from './fixtures/server-process'

const dir = mkdtempSync(join(tmpdir(), 'agentbase-agents-follow-'))
afterAll(() => { killAll(); rmSync(dir, { recursive: true, force: true }) })

const api = (url: string, method: string, path: string, body?: unknown, token?: string) => callServer(url, method, path, body, { token })
const DELAY_MS = 5000

async function until(what: string, check: () => Promise<boolean>, ms = 30_000) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return
    await Bun.sleep(100)
  }
  throw new Error(`timed out waiting for ${what}`)
}

test('SIGKILL during a fire, restart: the agent run ends with its resumed execution\'s outcome, counted once', async () => {
  const port = freePort()
  let s = await startServerProcess(dir, { PORT: String(port) })
  const token = await signUp(s.url, 'f@example.com')
  const agents: Record<'ok' | 'bad', string> = { ok: '', bad: '' }
  const workflows: Record<'ok' | 'bad', string> = { ok: '', bad: '' }
  const last = { ok: { id: 'done', type: 'transform', template: { finished: true } }, bad: { id: 'need', type: 'transform', template: '{{ input.must }}' } }
  for (const kind of ['ok', 'bad'] as const) {
    const wf = await api(s.url, 'POST', '/api/workflows/from-steps', { name: kind, steps: [{ id: 'wait', type: 'delay', duration_ms: DELAY_MS }, last[kind]] }, token)
    expect(wf.status).toBe(201)
    const a = await api(s.url, 'POST', '/api/agents', { workflow_id: wf.body.id }, token)
    expect(a.status).toBe(201)
    // One slot only (2 s from now): whatever follows is that run, never a later fire.
    const sc = await api(s.url, 'POST', '/api/agents/schedule', {
      agent_id: a.body.agent_id, schedule_config: { type: 'interval', interval_seconds: 2, end_at: new Date(Date.now() + 3500).toISOString(), pause_after_failures: 1 },
    }, token)
    expect(sc.status).toBe(200)
    agents[kind] = a.body.agent_id
    workflows[kind] = wf.body.id
  }
  const status = async (id: string) => (await api(s.url, 'GET', `/api/agents/${id}/status`, undefined, token)).body
  await until('both fires to be running', async () => (await status(agents.ok)).monitoring.running === 1 && (await status(agents.bad)).monitoring.running === 1)
  await Bun.sleep(1000) // inside the delay step
  s.proc.kill(9)
  await s.proc.exited

  s = await startServerProcess(dir, { PORT: String(port) })
  await until('both runs to end', async () => (await status(agents.ok)).monitoring.running === 0 && (await status(agents.bad)).monitoring.running === 0)
  const ok = await status(agents.ok)
  expect(ok.monitoring).toMatchObject({ execution_count: 1, success_count: 1, failure_count: 0, consecutive_failures: 0, last_error: null, running: 0 })
  expect(ok.status).toBe('active')
  const bad = await status(agents.bad)
  expect(bad.monitoring).toMatchObject({ execution_count: 1, success_count: 0, failure_count: 1, consecutive_failures: 1, running: 0 })
  expect(bad.monitoring.last_error).toMatch(/input\.must/)
  const an = (await api(s.url, 'GET', `/api/agents/${agents.ok}/analytics`, undefined, token)).body
  expect(an.executions_per_day.reduce((n: number, d: any) => n + d.succeeded, 0)).toBe(1)
  await s.proc.kill(15)
  await s.proc.exited

  const db = new Database(join(dir, 'agentbase.db'), { readonly: true })
  try {
    const events = (type: string, agentId: string) => db.query<{ data: string }, [string]>('SELECT data FROM events WHERE type = ? ORDER BY seq').all(type)
      .map((r) => JSON.parse(r.data)).filter((x) => x.agent_id === agentId)
    for (const kind of ['ok', 'bad'] as const) {
      const runs = db.query<any, [string]>('SELECT * FROM agent_runs WHERE agent_id = ?').all(agents[kind])
      expect(runs.length).toBe(1)
      const run = runs[0]
      // The one execution the run started, resumed after the kill (never a second one).
      const execs = db.query<any, [string]>('SELECT * FROM workflow_executions WHERE workflow_id = ?').all(workflows[kind])
      expect(execs.length).toBe(1)
      expect(run.execution_id).toBe(execs[0].id)
      expect(run.duration_ms).toBeGreaterThanOrEqual(DELAY_MS) // from the original start, across the downtime
      const fire = db.query<{ status: string }, [number, string]>('SELECT status FROM schedule_fires WHERE slot = ? AND schedule_id = (SELECT schedule_id FROM agents WHERE id = ?)')
      expect(fire.get(run.slot, agents[kind])?.status).toBe(kind === 'ok' ? 'succeeded' : 'failed')
      if (kind === 'ok') {
        expect(execs[0].status).toBe('success')
        expect({ status: run.status, error: run.error, output: JSON.parse(run.output) }).toEqual({ status: 'succeeded', error: null, output: { finished: true } })
        expect(events('agent.run.completed', agents.ok).map((x) => x.run_id)).toEqual([run.id])
        expect(events('agent.run.failed', agents.ok)).toEqual([])
      } else {
        expect(execs[0].status).toBe('failed')
        expect(run.status).toBe('failed')
        expect(run.error).toBe(execs[0].error)
        expect(events('agent.run.failed', agents.bad).map((x) => [x.run_id, x.error])).toEqual([[run.id, execs[0].error]])
        expect(events('agent.run.completed', agents.bad)).toEqual([])
        // The streak follows the real outcome once (the schedule has ended by now, so it does not pause).
        expect(events('agent.schedule.failing', agents.bad).map((x) => [x.consecutive_failures, x.last_error])).toEqual([[1, run.error]])
      }
    }
  } finally { db.close() }
}, 90_000)
