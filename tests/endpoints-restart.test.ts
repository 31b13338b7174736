/**
 * Async runs survive a crash: the real server (a child process) runs one async run while another waits in the
 * queue, is killed with SIGKILL mid-run, restarts on the same data dir: the queued run is resumed to success, the
 * interrupted one ends failed with a reason (its recorded events end with run.failed), nothing is left hanging.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database } from 'bun:sqlite'
import { startFakeLlm } from './fixtures/fake-llm'
import { parseSse } from './endpoints-kit'
import { callServer, freePort, killAll, signUp, startServerProcess } from './fixtures/server-process'

const llm = await startFakeLlm()
const dir = mkdtempSync(join(tmpdir(), 'agentbase-ep-restart-'))
afterAll(() => {
  killAll()
  llm.close()
  rmSync(dir, { recursive: true, force: true })
})

const startServer = (port: number) => startServerProcess(dir, {
  PORT: String(port), OPENAI_BASE_URL: llm.openaiBase, OPENAI_API_KEY: 'sk-test', AGENTBASE_RUN_CONCURRENCY: '1',
})

const api = (url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => callServer(url, method, path, body, { headers })

test('SIGKILL mid-run, restart: the queued run resumes, the running one fails with a reason', async () => {
  const port = freePort()
  let s = await startServer(port)
  const email = 'owner@example.com'
  const token = await signUp(s.url, email)
  const auth = { authorization: `Bearer ${token}` }
  const ws = (await api(s.url, 'POST', '/api/workspaces', { name: 'w' }, auth)).body.workspace.id
  const created = await api(s.url, 'POST', '/api/agent-endpoints', { name: 'Crashy', workspace_id: ws, system_prompt: 'x', async_mode: true }, auth)
  expect(created.status).toBe(201)
  const key = { 'x-api-key': created.body.api_key }
  await api(s.url, 'POST', `/api/agent-endpoints/${created.body.endpoint.id}/activate`, undefined, auth)

  // Run A streams slowly (the model delays each token); run B waits behind it (one worker).
  llm.reply({ text: Array.from({ length: 200 }, (_, i) => `w${i} `).join(''), tokenDelayMs: 50 })
  const a = (await api(s.url, 'POST', '/api/run/crashy', { input: 'A' }, key)).body
  const b = (await api(s.url, 'POST', '/api/run/crashy', { input: 'B' }, key)).body
  expect([a.status, b.status]).toEqual(['queued', 'queued'])
  await llm.waitForRequests(1)
  for (let i = 0; i < 200 && (await api(s.url, 'GET', a.status_url)).body.status !== 'running'; i++) await Bun.sleep(25)
  await Bun.sleep(300) // some events recorded (flushed every 50 ms)
  expect((await api(s.url, 'GET', b.status_url)).body.status).toBe('queued')

  s.proc.kill(9)
  await s.proc.exited
  llm.defaultReply = { text: 'B done after restart' }

  s = await startServer(port)
  let sb: any
  for (let i = 0; i < 400; i++) {
    sb = (await api(s.url, 'GET', b.status_url)).body
    if (sb.status === 'success') break
    await Bun.sleep(25)
  }
  expect(sb).toMatchObject({ status: 'success', output: 'B done after restart' })
  const sa = (await api(s.url, 'GET', a.status_url)).body
  expect(sa).toMatchObject({ status: 'error', code: 'interrupted' })
  expect(sa.error).toMatch(/stopped while this run was in progress/)
  const ev = parseSse((await api(s.url, 'GET', a.events_url)).text)
  expect(ev[0].event).toBe('run.started')
  expect(ev.at(-1)!.event).toBe('run.failed')
  expect(ev.map((e) => Number(e.id))).toEqual(ev.map((_, i) => i + 1))
  expect(ev.length).toBeGreaterThan(2) // text deltas recorded before the kill were kept

  s.proc.kill('SIGTERM')
  await s.proc.exited
  const db = new Database(join(dir, 'agentbase.db'), { readonly: true })
  expect(db.query<{ integrity_check: string }, []>('PRAGMA integrity_check').get()!.integrity_check).toBe('ok')
  expect(db.query<{ n: number }, []>("SELECT count(*) AS n FROM runs WHERE status IN ('queued', 'running')").get()!.n).toBe(0)
  db.close()
}, 60_000)
