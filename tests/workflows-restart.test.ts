/**
 * Durability: the real server (a child process) runs many executions of a workflow with side-effecting HTTP
 * steps and a delay, is killed with SIGKILL at a random moment (twice), restarts on the same data dir. Every
 * execution finishes; every side effect is applied exactly once (the counting API honours Idempotency-Key,
 * and an interrupted attempt is re-sent under its original key, never as a new attempt); delays are honoured.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, killAll, startServerProcess } from './fixtures/server-process'
import { startCountingApi } from './fixtures/counting-api'

const api = startCountingApi()
const dir = mkdtempSync(join(tmpdir(), 'agentbase-wf-restart-'))
afterAll(() => {
  killAll()
  api.close()
  rmSync(dir, { recursive: true, force: true })
})

async function call(url: string, method: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(url + path, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  })
  const text = await res.text()
  let parsed: any = text
  try { parsed = JSON.parse(text) } catch { /* not JSON */ }
  return { status: res.status, body: parsed }
}

const effect = (id: string, tag: string) => ({
  id, type: 'tool', tool: 'http_request',
  parameters: { method: 'POST', url: `${api.url}/effect`, body: `{"exec":"{{ input.n }}","tag":"${tag}"}`, headers: { 'content-type': 'application/json' } },
})

test('SIGKILL at random points, twice: every execution finishes, no side effect twice, delays honoured', async () => {
  const N = 40
  const port = freePort()
  const env = { PORT: String(port), AGENTBASE_SYNC: 'normal' }
  let s = await startServerProcess(dir, env)
  const email = 'owner@example.com'
  await call(s.url, 'POST', '/api/auth/register', { email, password: 'correct-horse-battery' })
  const token = (await call(s.url, 'POST', '/api/auth/login', { email, password: 'correct-horse-battery' })).body.token
  const wf = await call(s.url, 'POST', '/api/workflows/from-steps', {
    name: 'crashy', steps: [
      { id: 'prep', type: 'transform', template: { n: '{{ input.n }}' } },
      effect('first', 'a'),
      { id: 'pause', type: 'delay', duration_ms: 300 },
      effect('second', 'b'),
      { id: 'done', type: 'transform', expression: 'steps.prep.n' },
    ],
  }, token)
  expect(wf.status).toBe(201)
  api.delayMs = 20 // requests in flight when the process dies
  const ids: string[] = []
  for (let i = 0; i < N; i++) {
    const r = await call(s.url, 'POST', `/api/workflows/${wf.body.id}/execute`, { input_data: { n: i }, mode: 'async' }, token)
    expect(r.status).toBe(202)
    ids.push(r.body.execution_id)
  }
  for (let round = 0; round < 2; round++) {
    await Bun.sleep(50 + Math.floor(Math.random() * 300))
    s.proc.kill(9)
    await s.proc.exited
    if (round === 0) expect(api.applied.length).toBeLessThan(2 * N) // the kill really interrupted work
    s = await startServerProcess(dir, env)
  }
  const finished: any[] = []
  for (const id of ids) {
    let r: any
    for (let i = 0; i < 600; i++) {
      r = (await call(s.url, 'GET', `/api/workflows/executions/${id}`, undefined, token)).body
      if (!['queued', 'running', 'waiting'].includes(r.status)) break
      await Bun.sleep(25)
    }
    finished.push(r)
  }
  expect(finished.map((r) => r.status)).toEqual(ids.map(() => 'success'))
  expect(finished.map((r) => r.output_data)).toEqual(ids.map((_, i) => i))
  // Exactly 2 effects per execution, each under attempt 1 of its step: an interruption is never a new attempt.
  expect(api.applied.length).toBe(2 * N)
  expect(new Set(api.applied).size).toBe(2 * N)
  expect([...api.applied].sort()).toEqual(ids.flatMap((id) => [`${id}:first:1`, `${id}:second:1`]).sort())
  console.log(`effects re-sent under the same key after a crash: ${[...api.requests.values()].filter((n) => n > 1).length}`)
  for (const r of finished) {
    // One successful attempt per step in the journal; the delay's wake time came before the second effect.
    const byStep = new Map<string, any[]>()
    for (const a of r.steps) byStep.set(a.step_id, [...(byStep.get(a.step_id) ?? []), a])
    expect([...byStep.keys()]).toEqual(['prep', 'first', 'pause', 'second', 'done'])
    for (const list of byStep.values()) expect(list.map((a) => a.status)).toEqual(['success'])
    const until = Date.parse(byStep.get('pause')![0].input.until)
    expect(api.firstAt.get(`${r.id}:second:1`)!).toBeGreaterThanOrEqual(until)
  }
  s.proc.kill('SIGTERM')
  await s.proc.exited
}, 120_000)
