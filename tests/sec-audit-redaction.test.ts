import { afterAll, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { testApp } from './helpers'
import { flushToolCalls } from '../src/tools/audit'

/**
 * Issue 11 item 9: secrets in tool-call URLs (`?api_key=...`, `https://user:pass@host`) never reach the audit log,
 * the database file or its WAL. Headers were already redacted; query parameters whose names look secret and
 * userinfo now are too, before anything is stored. Harmless parameters stay readable.
 */

const api = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (r) => Response.json({ saw: new URL(r.url).search }) })
const t = testApp()
afterAll(() => { t.close(); api.stop(true) })

const SECRETS = ['SEKRIT-apikey-1111', 'SEKRIT-token-2222', 'SEKRIT-pass-3333', 'SEKRIT-sig-4444', 'SEKRIT-client-5555']

test('query parameters that look secret, and userinfo, are redacted in arguments, results and errors', async () => {
  const u = await t.user()
  const url = `http://127.0.0.1:${api.port}/v1/search?q=weather&api_key=${SECRETS[0]}&access_token=${SECRETS[1]}&Signature=${SECRETS[3]}&client_secret=${SECRETS[4]}&page=2`
  const r = await t.req('POST', '/api/mcp/call', { token: u.token, body: { name: 'http_request', arguments: { url } } })
  expect(r.status).toBe(200)
  // The call itself used the real URL (the upstream saw the key): only what we store is redacted.
  expect(JSON.stringify(r.body)).toContain(SECRETS[0])
  const withUser = `http://admin:${SECRETS[2]}@127.0.0.1:1/x?token=${SECRETS[1]}`
  await t.req('POST', '/api/mcp/call', { token: u.token, body: { name: 'http_request', arguments: { url: withUser } } })

  const calls = (await t.req('GET', '/api/mcp/calls?tool=http_request', { token: u.token })).body.calls
  expect(calls.length).toBe(2)
  const stored = JSON.stringify(calls)
  for (const s of SECRETS) expect(stored).not.toContain(s)
  expect(stored).toContain('q=weather')
  expect(stored).toContain('page=2')
  expect(stored).toContain('api_key=[redacted]')
  expect(stored).toContain('http://[redacted]@127.0.0.1:1/x')

  flushToolCalls(t.k)
  t.k.db.exec('PRAGMA wal_checkpoint(PASSIVE)')
  for (const f of readdirSync(t.dir).filter((f) => f.startsWith('agentbase.db'))) {
    const bytes = readFileSync(join(t.dir, f)).toString('latin1')
    for (const s of SECRETS) expect(bytes.includes(s)).toBe(false)
  }
})

test("the run's recorded events (resumable streams) store tool arguments redacted too", async () => {
  const { epEnv, createEndpoint, userWithWorkspace, until, count } = await import('./endpoints-kit')
  const env = await epEnv({ env: { AGENTBASE_BILLING: 'off' } })
  try {
    env.t.k.workers.start()
    const who = await userWithWorkspace(env.t)
    const ep = await createEndpoint(env.t, who, { name: 'Fetcher', async_mode: true, max_tool_calls: 2 })
    const url = `http://127.0.0.1:${api.port}/data?api_key=${SECRETS[0]}&page=1`
    env.llm.reply({ toolCalls: [{ name: 'http_request', arguments: { url } }] }, { text: 'done' })
    const r = await env.t.req('POST', `/api/run/${ep.slug}`, { headers: { authorization: `Bearer ${ep.key}` }, body: { input: 'fetch it' } })
    expect(r.status).toBe(202)
    await until(() => count(env.t, 'runs', "id = ? AND status = 'success'", r.body.run_id) === 1, 10_000, 'run done')
    const rows = env.t.k.db.query<{ type: string; data: string }, [string]>('SELECT type, data FROM run_events WHERE run_id = ? ORDER BY seq').all(r.body.run_id)
    const started = rows.find((x) => x.type === 'tool.started')
    expect(started).toBeDefined()
    expect(started!.data).toContain('api_key=[redacted]')
    expect(started!.data).toContain('page=1')
    for (const x of rows) expect(x.data).not.toContain(SECRETS[0])
  } finally {
    await env.t.k.workers.stopAll().catch(() => {})
    env.close()
  }
})
