import { setDefaultTimeout } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, type Config } from '../src/config'
import { createKernel, type Kernel } from '../src/kernel'
import { createApp, type App } from '../src/app'
import { createLogger, type Logger } from '../src/log'
import type { Clock } from '../src/clock'
import { eventProblem } from '../src/events/catalog'

// bunfig's [test] timeout is not applied by this bun; files that import the helpers get it here.
setDefaultTimeout(30_000)

export interface TestResponse<T = any> { status: number; body: T; headers: Headers; text: string }

export interface ReqOptions { body?: unknown; token?: string; headers?: Record<string, string>; raw?: BodyInit }

export interface TestApp {
  k: Kernel
  app: App
  dir: string
  /** In-process request through app.handle (no socket). */
  req<T = any>(method: string, path: string, opts?: ReqOptions): Promise<TestResponse<T>>
  /** Registers (first user becomes admin) and logs in; returns the JWT and user. */
  user(email?: string, password?: string): Promise<{ token: string; id: string; email: string }>
  close(): void
}

/**
 * An isolated app over a temporary data dir. Env defaults suit tests: quiet logs, loopback allowed
 * for outbound calls, open registration so several users can sign up.
 */
export function testApp(opts: { env?: Record<string, string>; config?: Partial<Config>; clock?: Clock; log?: Logger } = {}): TestApp {
  const dir = mkdtempSync(join(tmpdir(), 'agentbase-test-'))
  const config = loadConfig({
    AGENTBASE_DATA_DIR: dir,
    AGENTBASE_OPEN_REGISTRATION: 'on',
    AGENTBASE_OUTBOUND_ALLOW: '127.0.0.1,localhost',
    AGENTBASE_SYNC: 'normal',
    AGENTBASE_PASSWORD_MEMORY_KIB: '1024', // cheap hashes keep suites fast; production default is 19 MiB
    LOG_LEVEL: 'silent',
    ...opts.env,
  }, opts.config)
  const k = createKernel(config, { clock: opts.clock, log: opts.log ?? createLogger(config.logLevel) })
  // Every event this app publishes is checked against its catalog schema; a mismatch fails the file at close.
  const badEvents: string[] = []
  k.events.subscribe((e) => {
    if ((e as { unchecked?: boolean }).unchecked) return
    const problem = eventProblem(e.type, e.data)
    if (problem) badEvents.push(`${e.type}: ${problem} in ${JSON.stringify(e.data).slice(0, 300)}`)
  })
  const app = createApp(k)
  const req = async <T = any>(method: string, path: string, o: ReqOptions = {}): Promise<TestResponse<T>> => {
    const headers: Record<string, string> = { ...o.headers }
    let body: BodyInit | undefined
    if (o.raw !== undefined) body = o.raw
    else if (o.body !== undefined) {
      body = JSON.stringify(o.body)
      headers['content-type'] ??= 'application/json'
    }
    if (o.token) headers.authorization = `Bearer ${o.token}`
    const res = await app.handle(new Request(`http://localhost${path}`, { method, headers, body, duplex: 'half' } as RequestInit))
    const text = await res.text()
    let parsed: any = text
    try { parsed = JSON.parse(text) } catch { /* not JSON */ }
    return { status: res.status, body: parsed, headers: res.headers, text }
  }
  let n = 0
  return {
    k, app, dir, req,
    async user(email = `user${++n}-${Math.random().toString(36).slice(2, 8)}@example.com`, password = 'correct-horse-battery') {
      const r = await req('POST', '/api/auth/register', { body: { email, password } })
      if (r.status !== 201) throw new Error(`register failed: ${r.status} ${r.text}`)
      const l = await req('POST', '/api/auth/login', { body: { email, password } })
      if (l.status !== 200) throw new Error(`login failed: ${l.status} ${l.text}`)
      return { token: l.body.token, id: l.body.user.id, email }
    },
    close() {
      k.workers.stopAll().catch(() => {})
      try { k.close() } catch { /* already closed */ }
      rmSync(dir, { recursive: true, force: true })
      if (badEvents.length) throw new Error(`published events that do not match their schema (src/events/catalog.ts):\n${badEvents.join('\n')}`)
    },
  }
}

/** Row counts of every table: compare before/after a request to prove it wrote nothing. */
export function tableCounts(k: Kernel): Record<string, number> {
  const tables = k.db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all()
  return Object.fromEntries(tables.map(({ name }) => [name, k.db.query<{ n: number }, []>(`SELECT count(*) AS n FROM "${name}"`).get()!.n]))
}

/** Elysia runs onAfterResponse hooks (access log, metrics) in a setImmediate: wait for those queued so far. */
export const afterResponses = () => new Promise<void>((r) => setImmediate(r))

export interface Who { token: string; id: string; email: string; ws: string }

/** A registered user with one workspace. */
export async function userWithWorkspace(t: TestApp): Promise<Who> {
  const u = await t.user()
  const ws = await t.req('POST', '/api/workspaces', { token: u.token, body: { name: 'ws' } })
  if (ws.status !== 201) throw new Error(`workspace: ${ws.status} ${ws.text}`)
  return { ...u, ws: ws.body.workspace.id }
}

/**
 * The one polling helper of the suites: resolves once `cond` holds (checked every 10 ms), throws naming `what`
 * after `timeoutMs`. Never assert on timing; wait for the state, then assert on it.
 */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (await cond()) return
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(10)
  }
}

/** `until` for a value: polls `read()` until `ok(value)`, and resolves with that value. */
export async function untilValue<T>(read: () => T | Promise<T>, ok: (v: T) => boolean, what = 'condition', timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await read()
    if (ok(v)) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)?.slice(0, 500)}`)
    await Bun.sleep(10)
  }
}

/**
 * The one shared test scenario type (as PocketBase's ApiScenario): a request and what must come back.
 * `expectBody` is matched with toMatchObject; `refused` also checks a readable `{ error }` and that no table changed.
 *
 *   await runScenario(t, { name: 'bob cannot cancel', method: 'POST', path: `/api/runs/${id}/cancel`, token: bob.token, status: 404 })
 */
export interface ApiScenario {
  name?: string
  method: string
  path: string | (() => string)
  token?: string | (() => string | undefined)
  headers?: Record<string, string>
  body?: unknown
  status: number
  expectBody?: Record<string, unknown>
  /** The `{ error }` message must match. */
  error?: RegExp
  /** A refusal: a readable `{ error }` and no table changed. */
  refused?: boolean
}

export async function runScenario(t: TestApp, s: ApiScenario): Promise<TestResponse> {
  const { expect } = await import('bun:test')
  const before = s.refused ? tableCounts(t.k) : null
  const o: ReqOptions = { token: typeof s.token === 'function' ? s.token() : s.token, headers: s.headers }
  if (s.body !== undefined) o.body = s.body
  const r = await t.req(s.method, typeof s.path === 'function' ? s.path() : s.path, o)
  expect({ scenario: s.name ?? `${s.method} ${s.path}`, status: r.status }).toEqual({ scenario: s.name ?? `${s.method} ${s.path}`, status: s.status })
  if (s.expectBody) expect(r.body).toMatchObject(s.expectBody)
  if (s.refused || s.error) expect(typeof r.body.error).toBe('string')
  if (s.error) expect(r.body.error).toMatch(s.error)
  if (before) expect(tableCounts(t.k)).toEqual(before)
  return r
}

export interface RefusalScenario { method: string; path: () => string; as: () => string | undefined; body?: unknown; status: number; error?: RegExp }

/** A request that must be refused: the expected status, a readable `{ error }`, and no table changed. */
export const expectRefused = (t: TestApp, c: RefusalScenario) =>
  runScenario(t, { method: c.method, path: c.path, token: c.as, body: c.body, status: c.status, error: c.error, refused: true })
