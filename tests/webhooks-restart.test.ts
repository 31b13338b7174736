// "Nothing acknowledged is lost" for outbound webhooks: the real server commits a delivery, is SIGKILLed
// while the attempt is in flight (the receiver has not answered), restarts on the same data dir, and the
// event is delivered: answered 2xx exactly once, every request carrying the same webhook-id, all verified.
// Also: an event committed to the outbox but not yet dispatched when the process died goes out after restart.
import { afterAll, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startReceiver } from './fixtures/webhook-receiver'
import { freePort, killAll, startServerProcess } from './fixtures/server-process'

const dir = mkdtempSync(join(tmpdir(), 'agentbase-wh-restart-'))
const rx = startReceiver()
afterAll(() => {
  killAll()
  rx.close()
  rmSync(dir, { recursive: true, force: true })
})

const port = freePort()
const base = `http://127.0.0.1:${port}`

const startServer = async () => (await startServerProcess(dir, { PORT: String(port) })).proc

const api = async (method: string, path: string, token?: string, body?: unknown) => {
  const res = await fetch(base + path, {
    method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: await res.json() as any }
}

test('SIGKILL between commit and delivery, restart: delivered once, one webhook-id', async () => {
  let answered = 0
  let release!: () => void
  const firstHeld = new Promise<void>((r) => { release = r })
  // First request: held open (the server dies before it is answered). Later ones: 200.
  rx.respond = async (_r, n) => {
    if (n === 1) { await firstHeld; return new Response('late', { status: 500 }) }
    answered++
    return new Response('ok')
  }

  let proc = await startServer()
  const creds = { email: 'kill@example.com', password: 'correct-horse-battery' }
  expect((await api('POST', '/api/auth/register', undefined, creds)).status).toBe(201)
  const token = (await api('POST', '/api/auth/login', undefined, creds)).body.token
  const hook = await api('POST', '/api/webhooks', token, { url: `${rx.url}/crash`, events: ['*'] })
  expect(hook.status).toBe(201)
  rx.secrets.set('/crash', hook.body.secret)

  const sent = await api('POST', `/api/webhooks/${hook.body.webhook.id}/test`, token)
  expect(sent.status).toBe(202) // committed
  await rx.waitFor(1, 15_000) // the attempt is in flight, unanswered
  proc.kill(9)
  await proc.exited
  release() // the held request finishes into a dead socket
  // An event committed to the outbox just before the kill, not yet dispatched into deliveries.
  const userId = (await (async () => {
    const db = new Database(join(dir, 'agentbase.db'))
    const row = db.query<{ id: string }, []>('SELECT id FROM users').get()!
    const seq = db.query<{ s: number | null }, []>('SELECT max(seq) AS s FROM events').get()!.s ?? 0
    db.query("INSERT INTO events (id, seq, type, owner_id, data, created_at) VALUES ('evt_before_kill', ?, 'run.completed', ?, '{\"run_id\":\"run_k\"}', '2026-03-14T10:00:00Z')").run(seq + 1, row.id)
    db.close()
    return row.id
  })())
  expect(userId).toMatch(/^usr_/)

  proc = await startServer()
  await rx.waitFor(3, 15_000)
  // Wait for the success to be recorded, then make sure nothing else arrives.
  let d: any
  for (let i = 0; i < 300; i++) {
    const all = (await api('GET', `/api/webhooks/${hook.body.webhook.id}/deliveries`, token)).body.deliveries as any[]
    d = all.find((x) => x.id === sent.body.delivery.id)
    if (all.length === 2 && all.every((x) => x.status === 'success')) break
    await Bun.sleep(20)
  }
  expect(d).toMatchObject({ id: sent.body.delivery.id, status: 'success', attempts: 1, last_status: 200 })
  await Bun.sleep(300)
  expect(answered).toBe(2)
  expect(rx.received.length).toBe(3)
  expect(rx.received.every((r) => r.verified)).toBe(true)
  const tests = rx.received.filter((r) => r.id === sent.body.delivery.id)
  expect(tests.length).toBe(2) // the unanswered attempt, then the one after restart
  expect(tests[1].json).toMatchObject({ type: 'webhook.test' })
  const outbox = rx.received.filter((r) => r.json?.type === 'run.completed')
  expect(outbox.length).toBe(1)
  expect(outbox[0].json).toEqual({ type: 'run.completed', timestamp: '2026-03-14T10:00:00Z', data: { run_id: 'run_k' } })
  expect(new Set(rx.received.map((r) => r.id)).size).toBe(2)

  proc.kill('SIGTERM')
  await proc.exited
  const db = new Database(join(dir, 'agentbase.db'))
  expect(db.query<{ integrity_check: string }, []>('PRAGMA integrity_check').get()!.integrity_check).toBe('ok')
  expect(db.query<{ n: number }, []>("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'").get()!.n).toBe(0)
  db.close()
}, 60_000)
