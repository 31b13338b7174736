// Issue 11 items 15 and 16: one server per port and per data dir; CLI commands never create a database
// by accident; user create validates; backups are 0600; restore.
import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BUN, MAIN, baseEnv, cli, startServer, tmp, withDatabase } from './cli-kit'

setDefaultTimeout(60_000) // child processes on a busy 2-core machine

const emails = (dir: string) => {
  const db = new Database(join(dir, 'agentbase.db'), { readonly: true })
  try { return db.query<{ email: string }, []>('SELECT email FROM users ORDER BY email').all().map((r) => r.email) } finally { db.close() }
}

describe('one server per port and per data dir', () => {
  test('a second serve on a busy port exits 1 naming the port; the first keeps its database', async () => {
    const a = await startServer(baseEnv(tmp()))
    try {
      const fresh = join(tmp(), 'data')
      const second = await cli(['serve'], { ...baseEnv(fresh), PORT: String(a.port), HOST: '127.0.0.1' })
      expect(second.code).toBe(1)
      expect(second.err).toContain(`port ${a.port} on 127.0.0.1 is already in use`)
      expect(second.out).not.toContain('listening')
      expect(existsSync(fresh)).toBe(false) // no stray database left where it failed to start
      // Every request still lands on the first server's database.
      for (let i = 0; i < 5; i++) expect((await fetch(a.url + '/health')).status).toBe(200)
    } finally {
      a.proc.kill('SIGKILL')
    }
  })

  test('a second serve on the same data dir (another port) exits 1: the data dir is locked', async () => {
    const env = baseEnv(tmp())
    const a = await startServer(env)
    try {
      const second = await cli(['serve'], { ...env, PORT: '0', HOST: '127.0.0.1' })
      expect(second.code).toBe(1)
      expect(second.err).toMatch(/the data dir .* is in use by another agentbase process/)
      // Writing commands are refused too; read-only ones work while serving.
      const user = await cli(['user', 'create', '--email', 'x@example.com', '--password', 'long-enough-pw'], env)
      expect(user.code).toBe(1)
      expect(user.err).toMatch(/in use by another agentbase process/)
      expect((await cli(['migrate', '--status'], env)).code).toBe(0)
      const b = await cli(['backup', join(tmp(), 'b.db')], env)
      expect(b.code).toBe(0)
      const r = await cli(['restore', join(tmp(), 'none.db')], env)
      expect(r.code).toBe(1)
    } finally {
      a.proc.kill('SIGKILL')
      await a.proc.exited
    }
    // The lock dies with the process (even SIGKILL): a new server starts on the same data dir.
    const again = await startServer(env)
    again.proc.kill('SIGKILL')
  })
})

describe('CLI and the data dir', () => {
  test('user create from another directory refuses to create ./data, naming the path and AGENTBASE_DATA_DIR', async () => {
    const cwd = tmp()
    const env = baseEnv(tmp())
    delete env.AGENTBASE_DATA_DIR
    const r = await cli(['user', 'create', '--email', 'a@example.com', '--password', 'long-enough-pw'], env, { cwd })
    expect(r.code).toBe(1)
    expect(r.err).toContain(`no database at ${join(cwd, 'data', 'agentbase.db')}`)
    expect(r.err).toContain('AGENTBASE_DATA_DIR')
    expect(existsSync(join(cwd, 'data'))).toBe(false)
    for (const args of [['migrate'], ['migrate', '--status'], ['backup', join(cwd, 'b.db')]]) {
      const m = await cli(args, env, { cwd })
      expect(m.code).toBe(1)
      expect(m.err).toContain('no database at')
      expect(readdirSync(cwd)).toEqual([])
    }
  })

  test('user create validates the email and reads the password from stdin', async () => {
    const env = withDatabase(baseEnv(tmp()))
    for (const bad of ['not-an-email', 'a@', '@example.com', 'a b@example.com']) {
      const r = await cli(['user', 'create', '--email', bad, '--password', 'long-enough-pw'], env)
      expect(r.code).toBe(1)
      expect(r.err).toContain('is not a valid email address')
    }
    const piped = await cli(['user', 'create', '--email', 'piped@example.com', '--admin'], env, { stdin: 'from-stdin-pw\n' })
    expect(piped.code).toBe(0)
    expect(piped.out).toMatch(/^created admin piped@example\.com/)
    const none = await cli(['user', 'create', '--email', 'empty@example.com'], env, { stdin: '' })
    expect(none.code).toBe(1)
    expect(none.err).toContain('no password given')
    expect(emails(env.AGENTBASE_DATA_DIR!)).toEqual(['piped@example.com'])
    // The piped password is the one stored: it logs in.
    const s = await startServer(env)
    try {
      const r = await fetch(s.url + '/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'piped@example.com', password: 'from-stdin-pw' }) })
      expect(r.status).toBe(200)
    } finally {
      s.proc.kill('SIGKILL')
    }
  })

  test('backup is 0600; restore brings it back and keeps the replaced database; wrong key and junk are refused', async () => {
    const dir = tmp()
    const env = withDatabase(baseEnv(dir))
    expect((await cli(['user', 'create', '--email', 'before@example.com', '--password', 'long-enough-pw'], env)).code).toBe(0)
    const file = join(tmp(), 'snap.db')
    expect((await cli(['backup', file], env)).code).toBe(0)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect((await cli(['user', 'create', '--email', 'after@example.com', '--password', 'long-enough-pw'], env)).code).toBe(0)
    expect(emails(dir)).toEqual(['after@example.com', 'before@example.com'])

    const r = await cli(['restore', file], env)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^restored .*agentbase\.db from .*snap\.db; the previous database is kept as .*before-restore-/)
    expect(emails(dir)).toEqual(['before@example.com'])
    expect(statSync(join(dir, 'agentbase.db')).mode & 0o777).toBe(0o600)
    const kept = readdirSync(dir).find((f) => f.includes('before-restore'))!
    expect(emails(dir).length).toBe(1)
    const old = new Database(join(dir, kept), { readonly: true })
    expect(old.query('SELECT count(*) AS n FROM users').get()).toEqual({ n: 2 })
    old.close()

    // Into a fresh data dir: the backup's master key must come along.
    const fresh = baseEnv(tmp())
    const noKey = await cli(['restore', file], fresh)
    expect(noKey.code).toBe(1)
    expect(noKey.err).toContain('no master key')
    const wrong = await cli(['restore', file], { ...fresh, AGENTBASE_SECRET_KEY: 'x'.repeat(40) })
    expect(wrong.code).toBe(1)
    expect(wrong.err).toContain('was made with another master key')
    const junk = join(tmp(), 'junk.db')
    writeFileSync(junk, 'this is not sqlite at all, just some bytes that go on for a while '.repeat(100))
    const j = await cli(['restore', junk], env)
    expect(j.code).toBe(1)
    expect(j.err).toMatch(/is not an Agentbase backup|is damaged/)
    expect(emails(dir)).toEqual(['before@example.com'])
  })
})

describe('user create at a terminal', () => {
  const tmux = Bun.which('tmux')
  test.skipIf(!tmux)('prompts twice without echoing the password, and creates the user', async () => {
    const env = withDatabase(baseEnv(tmp()))
    const session = `ab-prompt-${process.pid}`
    const sh = (...args: string[]) => Bun.spawnSync([tmux!, ...args], { env: env as Record<string, string> }).stdout.toString()
    const pane = () => sh('capture-pane', '-p', '-t', session)
    const waitFor = async (text: string) => {
      for (let i = 0; i < 200 && !pane().includes(text); i++) await Bun.sleep(50)
      expect(pane()).toContain(text)
    }
    const cmd = [BUN, MAIN, 'user', 'create', '--email', 'tty@example.com'].join(' ')
    sh('new-session', '-d', '-s', session, '-x', '120', '-y', '20', `${cmd}; sleep 30`)
    try {
      await waitFor('Password:')
      sh('send-keys', '-t', session, 'typed-at-the-prompt', 'Enter')
      await waitFor('Repeat password:')
      sh('send-keys', '-t', session, 'typed-at-the-prompt', 'Enter')
      await waitFor('created admin tty@example.com') // the first account is the admin
      expect(pane()).not.toContain('typed-at-the-prompt')
    } finally {
      sh('kill-session', '-t', session)
    }
    expect(emails(env.AGENTBASE_DATA_DIR!)).toEqual(['tty@example.com'])
  })
})
