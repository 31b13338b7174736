// The CLI as an operator runs it: `bun src/main.ts ...` in a child process. Help, usage errors (exit 2),
// migrate, user create, backup while serving, health, master key mismatch, graceful shutdown on SIGTERM.
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrations } from '../migrations/index'
import pkg from '../package.json'
import { createKernel } from '../src/kernel'
import { loadConfig } from '../src/config'
import { createLogger } from '../src/log'

setDefaultTimeout(60_000) // child processes on a busy 2-core machine

const ROOT = join(import.meta.dir, '..')
const BUN = join(ROOT, 'node_modules', '.bin', 'bun')
const MAIN = join(ROOT, 'src', 'main.ts')
const dirs: string[] = []
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'agentbase-cli-')); dirs.push(d); return d }
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

/** The environment minus any AGENTBASE_* the developer happens to have set. */
const baseEnv = (dir: string, extra: Record<string, string> = {}) => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AGENTBASE_') && k !== 'PORT' && k !== 'HOST')),
  AGENTBASE_DATA_DIR: dir,
  AGENTBASE_PASSWORD_MEMORY_KIB: '1024',
  ...extra,
})

/** A data dir holding a database, made by the same code `serve` runs (CLI commands never create one). */
function withDatabase<E extends Record<string, string | undefined>>(env: E): E {
  createKernel(loadConfig(env), { log: createLogger('silent') }).close()
  return env
}

async function cli(args: string[], env: Record<string, string | undefined> = baseEnv(tmp())) {
  const p = Bun.spawn([BUN, MAIN, ...args], { env, cwd: ROOT, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  return { out, err, code }
}

/** A running `serve` on a free port; resolves once it logged "listening". Collects stdout lines. */
async function startServer(env: Record<string, string | undefined>) {
  const proc = Bun.spawn([BUN, MAIN, 'serve'], { env: { ...env, PORT: '0', HOST: '127.0.0.1' }, cwd: ROOT, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const lines: any[] = []
  const waiters: Array<{ match: (l: any) => boolean; resolve: (l: any) => void }> = []
  ;(async () => {
    let buf = ''
    for await (const chunk of proc.stdout) {
      buf += new TextDecoder().decode(chunk)
      let i: number
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        let parsed: any
        try { parsed = JSON.parse(line) } catch { continue }
        lines.push(parsed)
        for (const w of [...waiters]) if (w.match(parsed)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(parsed) }
      }
    }
  })()
  const waitFor = (match: (l: any) => boolean) => {
    const found = lines.find(match)
    return found ? Promise.resolve(found) : new Promise<any>((resolve) => waiters.push({ match, resolve }))
  }
  const listening = await Promise.race([
    waitFor((l) => l.msg === 'listening'),
    proc.exited.then(async (c) => { throw new Error(`serve exited ${c}: ${await new Response(proc.stderr).text()}`) }),
  ])
  return { proc, url: listening.url as string, port: Number(new URL(listening.url).port), lines, waitFor }
}

describe('usage', () => {
  test('--help prints every command and exits 0', async () => {
    const r = await cli(['--help'])
    expect(r.code).toBe(0)
    for (const cmd of ['serve', 'migrate [--status]', 'backup <file>', 'user create --email', 'health', 'version']) expect(r.out).toContain(cmd)
  })
  test('version prints the package version', async () => {
    const r = await cli(['version'])
    expect(r).toEqual({ out: `${pkg.version}\n`, err: '', code: 0 })
  })

  const usage = [
    { args: [], code: 2, out: /Usage: agentbase/, err: /^$/ },
    { args: ['frobnicate'], code: 2, err: /unknown command "frobnicate"; run "agentbase --help"/ },
    { args: ['version', '--bogus'], code: 2, err: /Unknown option '--bogus'/ },
    { args: ['serve', '--status'], code: 2, err: /unknown option --status for "serve"/ },
    { args: ['serve', 'extra'], code: 2, err: /unexpected argument "extra" for serve/ },
    { args: ['backup'], code: 2, err: /backup needs a target file/ },
    { args: ['user'], code: 2, err: /unknown user command ""/ },
    { args: ['user', 'create', '--password', 'long-enough-pw'], code: 2, err: /user create needs --email/ },
    { args: ['migrate', '--email', 'x'], code: 2, err: /unknown option --email for "migrate"/ },
  ]
  for (const u of usage) {
    test(`"${u.args.join(' ')}" exits ${u.code} with a clear message`, async () => {
      const r = await cli(u.args)
      expect(r.code).toBe(u.code)
      expect(r.err).toMatch(u.err)
      if (u.out) expect(r.out).toMatch(u.out)
      if (u.code === 2 && u.args.length) expect(r.err).toContain('Run "agentbase --help" for usage.')
    })
  }
})

describe('migrate and user create', () => {
  test('migrate --status lists pending, migrate applies, --status lists applied', async () => {
    const env = baseEnv(tmp())
    new Database(join(env.AGENTBASE_DATA_DIR, 'agentbase.db'), { create: true }).close() // an empty database: nothing applied yet
    const pending = await cli(['migrate', '--status'], env)
    expect(pending.code).toBe(0)
    expect(pending.out.trim().split('\n')).toEqual(migrations.map((m) => expect.stringMatching(new RegExp(`^pending\\s+${m.name}$`))))
    const apply = await cli(['migrate'], env)
    expect(apply.code).toBe(0)
    expect(apply.out).toContain(`database is at the latest migration (${migrations.at(-1)!.name})`)
    const applied = await cli(['migrate', '--status'], env)
    expect(applied.out.trim().split('\n')).toEqual(migrations.map((m) => expect.stringMatching(new RegExp(`^applied \\d{4}-\\d\\d-\\d\\dT\\S+\\s+${m.name}$`))))
  })

  test('user create makes users; duplicates and short passwords fail with exit 1', async () => {
    const env = withDatabase(baseEnv(tmp()))
    const a = await cli(['user', 'create', '--email', 'Root@Example.com', '--password', 'long-enough-pw', '--admin'], env)
    expect(a.code).toBe(0)
    expect(a.out).toMatch(/^created admin root@example\.com \(usr_[A-Za-z0-9_-]{20}\)\n$/)
    const b = await cli(['user', 'create', '--email', 'plain@example.com', '--password', 'long-enough-pw'], env)
    expect(b.out).toMatch(/^created user plain@example\.com/)
    const dup = await cli(['user', 'create', '--email', 'root@example.com', '--password', 'long-enough-pw'], env)
    expect(dup.code).toBe(1)
    expect(dup.err).toContain('An account with this email already exists')
    const short = await cli(['user', 'create', '--email', 'c@example.com', '--password', 'short'], env)
    expect(short.code).toBe(1)
    expect(short.err).toContain('password must be at least 8 characters')
    const db = new Database(join(env.AGENTBASE_DATA_DIR, 'agentbase.db'), { readonly: true })
    expect(db.query('SELECT email, role FROM users ORDER BY email').all()).toEqual([{ email: 'plain@example.com', role: 'user' }, { email: 'root@example.com', role: 'admin' }])
    db.close()
  })

  test('a different master key stops start-up with a clear message (exit 1)', async () => {
    const env = withDatabase(baseEnv(tmp(), { AGENTBASE_SECRET_KEY: 'first-key-0123456789abcdefghijklmnop' }))
    expect((await cli(['migrate'], env)).code).toBe(0)
    const r = await cli(['migrate'], { ...env, AGENTBASE_SECRET_KEY: 'other-key-0123456789abcdefghijklmnop' })
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/^agentbase: The master key does not match the one this database was created with/)
  })

  test('backup refuses a missing database and an existing target', async () => {
    const dir = tmp()
    const none = await cli(['backup', join(dir, 'b.db')], baseEnv(join(dir, 'empty')))
    expect(none.code).toBe(1)
    expect(none.err).toMatch(/no database at .*agentbase\.db; set AGENTBASE_DATA_DIR/)
    expect(existsSync(join(dir, 'empty', 'agentbase.db'))).toBe(false)
    const env = withDatabase(baseEnv(dir))
    const exists = await cli(['backup', join(dir, 'agentbase.db')], env)
    expect(exists.code).toBe(1)
    expect(exists.err).toMatch(/already exists; choose a new file/)
  })
})

describe('a running server', () => {
  test('backup while serving writes a consistent SQLite copy; health checks it; SIGTERM lets an in-flight request finish and exits 0', async () => {
    const dir = tmp()
    const env = baseEnv(dir, { LOG_LEVEL: 'info' })
    const s = await startServer(env)
    try {
      const post = (path: string, body: unknown, token?: string) =>
        fetch(s.url + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } })
      expect((await post('/api/auth/register', { email: 'op@example.com', password: 'long-enough-pw' })).status).toBe(201)
      const jwt = (await (await post('/api/auth/login', { email: 'op@example.com', password: 'long-enough-pw' })).json()).token

      // Backup while writes keep arriving.
      const writes = Promise.all(Array.from({ length: 20 }, (_, i) => post('/api/workspaces', { name: `w${i}` }, jwt).then((r) => r.status)))
      const backupFile = join(dir, 'backup.db')
      const b = await cli(['backup', backupFile], env)
      expect(b.code).toBe(0)
      expect(b.out).toBe(`backup written to ${backupFile}\n`)
      expect(new Set(await writes)).toEqual(new Set([201]))
      const copy = new Database(backupFile, { readonly: true })
      expect(copy.query('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' })
      expect(copy.query('SELECT email FROM users').all()).toEqual([{ email: 'op@example.com' }])
      expect(copy.query('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({ n: migrations.length })
      copy.close()

      const h = await cli(['health', '--port', String(s.port)], env)
      expect(h.code).toBe(0)
      expect(JSON.parse(h.out)).toMatchObject({ status: 'ok', database: 'ok', version: pkg.version })

      // An in-flight request: headers and half the body sent, the rest after SIGTERM.
      const body = JSON.stringify({ name: 'in-flight' })
      let response = ''
      let closed!: () => void
      const done = new Promise<void>((r) => (closed = r))
      const sock = await Bun.connect({
        hostname: '127.0.0.1',
        port: s.port,
        socket: { data(_s, d) { response += Buffer.from(d).toString() }, close() { closed() }, error() { closed() } },
      })
      sock.write(`POST /api/workspaces HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nAuthorization: Bearer ${jwt}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 5)}`)
      sock.flush()
      // A full round trip on another connection: the server has read the first one's headers by now.
      expect((await fetch(s.url + '/health')).status).toBe(200)
      s.proc.kill('SIGTERM')
      await s.waitFor((l) => l.msg === 'shutting down')
      sock.write(body.slice(5))
      sock.flush()
      await done
      expect(response).toStartWith('HTTP/1.1 201')
      expect(response).toContain('"name":"in-flight"')
      expect(await s.proc.exited).toBe(0)

      const down = await cli(['health', '--port', String(s.port)], env)
      expect(down.code).toBe(1)
      expect(down.err).toMatch(/unreachable/)
      // The database was closed cleanly and holds the in-flight write.
      const db = new Database(join(dir, 'agentbase.db'), { readonly: true })
      expect(db.query("SELECT count(*) AS n FROM workspaces WHERE name = 'in-flight'").get()).toEqual({ n: 1 })
      db.close()
    } finally {
      s.proc.kill('SIGKILL')
    }
  })
})
