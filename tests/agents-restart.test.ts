/**
 * The real server (a child process) fires three every-second agents whose workflow applies a side effect per
 * slot on a counting API; it is SIGKILLed mid-fire, stays down a few seconds, restarts on the same data dir.
 * No slot fires twice (counted at the API, the outside world), every slot is accounted for once (fired,
 * skipped, interrupted or missed), and the downtime is handled per catch-up policy.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database } from 'bun:sqlite'
import { startCountingApi } from './fixtures/counting-api'
import { callServer, freePort, killAll, signUp, startServerProcess } from './fixtures/server-process'

const counting = startCountingApi()
const dir = mkdtempSync(join(tmpdir(), 'agentbase-agents-restart-'))
afterAll(() => { killAll(); counting.close(); rmSync(dir, { recursive: true, force: true }) })

const api = (url: string, method: string, path: string, body?: unknown, token?: string) => callServer(url, method, path, body, { token })

test('SIGKILL during fires, restart: no slot twice, every slot accounted for, downtime per catch-up policy', async () => {
  const port = freePort()
  let s = await startServerProcess(dir, { PORT: String(port) })
  const token = await signUp(s.url, 'o@example.com')
  const wf = await api(s.url, 'POST', '/api/workflows/from-steps', {
    name: 'effect', steps: [{ id: 'post', type: 'tool', tool: 'http_request', parameters: {
      method: 'POST', url: `${counting.url}/effect`, headers: { 'content-type': 'application/json' }, body: '{"agent":"{{ trigger.agent_id }}","slot":"{{ trigger.slot }}"}',
    } }],
  }, token)
  expect(wf.status).toBe(201)
  const agents: Record<string, string> = {}
  for (const policy of ['none', 'latest', 'all']) {
    const a = await api(s.url, 'POST', '/api/agents', { workflow_id: wf.body.id }, token)
    expect(a.status).toBe(201)
    const sc = await api(s.url, 'POST', '/api/agents/schedule', { agent_id: a.body.agent_id, schedule_config: { type: 'interval', interval_seconds: 1, catchup_policy: policy, catchup_window_seconds: 600 } }, token)
    expect(sc.status).toBe(200)
    agents[policy] = a.body.agent_id
  }
  await Bun.sleep(3200)
  s.proc.kill(9)
  await s.proc.exited
  const killedAt = Date.now()
  const appliedBeforeRestart = counting.applied.length
  expect(appliedBeforeRestart).toBeGreaterThan(3)
  await Bun.sleep(4000) // down: about four slots of each agent pass unrun
  s = await startServerProcess(dir, { PORT: String(port) })
  const restartedAt = Date.now()
  await Bun.sleep(3000)
  await s.proc.kill(15)
  await s.proc.exited

  // The outside world: one applied effect per (agent, slot), never two.
  const bodies = [...counting.bodies.values()] as Array<{ agent: string; slot: string }>
  const keys = bodies.map((b) => `${b.agent}@${b.slot}`)
  expect(new Set(keys).size).toBe(keys.length)
  for (const id of Object.values(agents)) expect(bodies.some((b) => b.agent === id && Date.parse(b.slot) > restartedAt - 1000)).toBe(true)

  const db = new Database(join(dir, 'agentbase.db'), { readonly: true })
  try {
    for (const [policy, id] of Object.entries(agents)) {
      const sch = db.query<any, [string]>('SELECT * FROM schedules WHERE name = ?').get(`agent:${id}`)
      const fires = db.query<{ slot: number; kind: string; status: string }, [string]>("SELECT slot, kind, status FROM schedule_fires WHERE schedule_id = ? AND kind <> 'manual' ORDER BY slot").all(sch.id)
      // Every slot from the first up to the next one due is fired, skipped, interrupted or counted missed: exactly once.
      const first = sch.anchor_ms + 1000
      const total = (sch.next_slot - first) / 1000
      expect({ policy, accounted: fires.length + sch.missed_count }).toEqual({ policy, accounted: total })
      const runs = db.query<{ slot: number }, [string]>('SELECT slot FROM agent_runs WHERE agent_id = ?').all(id)
      expect(new Set(runs.map((r) => r.slot)).size).toBe(runs.length)
      const downSlots = fires.filter((f) => f.slot > killedAt && f.slot < restartedAt - 1000)
      if (policy === 'none') {
        expect(fires.some((f) => f.kind === 'catchup')).toBe(false)
        expect(sch.missed_count).toBeGreaterThanOrEqual(2)
      }
      if (policy === 'latest') expect(sch.missed_count).toBeGreaterThanOrEqual(2)
      if (policy === 'all') {
        expect(sch.missed_count).toBe(0)
        // Slots of the downtime run as catch-up at start-up (the newest, if still on time, as a normal fire).
        expect(downSlots.filter((f) => f.kind === 'catchup').length).toBeGreaterThanOrEqual(Math.max(2, downSlots.length - 1))
      }
    }
    // The fire that was running at the kill is closed as interrupted, never re-run under a new key.
    const open = db.query<{ n: number }, []>("SELECT count(*) AS n FROM schedule_fires WHERE status IN ('running', 'buffered')").get()!.n
    expect(open).toBeLessThanOrEqual(3) // only what the graceful stop left in flight
    const lease = db.query<{ token: number }, []>('SELECT token FROM scheduler_lease').get()!
    expect(lease.token).toBe(2) // one takeover after the kill, no wait for the dead holder's lease to lapse
  } finally { db.close() }
}, 60_000)
