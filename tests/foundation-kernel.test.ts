// Kernel pieces without HTTP: secrets box, master key check, migrations, outbound guard, config.
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { SecretBox } from '../src/secrets/box'
import { createKernel, MasterKeyError } from '../src/kernel'
import { loadConfig, ConfigError } from '../src/config'
import { openDb } from '../src/db/open'
import { migrate, migrationStatus, MigrationError } from '../src/db/migrate'
import { migrations } from '../migrations/index'
import { OutboundGuard, safeFetch } from '../src/tools/outbound'
import { ApiError } from '../src/http/errors'
import { createLogger } from '../src/log'

const dirs: string[] = []
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'agentbase-kernel-')); dirs.push(d); return d }
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })
const quiet = createLogger('silent')
const cfg = (dir: string, env: Record<string, string> = {}) => loadConfig({ AGENTBASE_DATA_DIR: dir, AGENTBASE_PASSWORD_MEMORY_KIB: '1024', ...env })

describe('secrets box', () => {
  const box = new SecretBox(randomBytes(32))
  test('round trip, random nonce, versioned format', () => {
    for (const plain of ['', 'sk-live-123', 'ünïcødé ✓ 🚀', 'x'.repeat(100_000)]) {
      const a = box.seal(plain), b = box.seal(plain)
      expect(a).toStartWith('v1:')
      expect(a).not.toBe(b)
      expect(box.open(a)).toBe(plain)
      if (plain) expect(a).not.toContain(plain)
    }
    expect(box.openJson(box.sealJson({ token: 't', n: [1] }))).toEqual({ token: 't', n: [1] })
    expect(box.sealJson(null)).toBeNull()
    expect(box.openJson(null)).toBeNull()
  })

  const tamper = (sealed: string, at: 'nonce' | 'body' | 'tag') => {
    const raw = Buffer.from(sealed.slice(3), 'base64')
    const i = at === 'nonce' ? 0 : at === 'body' ? 13 : raw.length - 1
    raw[i] ^= 1
    return 'v1:' + raw.toString('base64')
  }
  for (const at of ['nonce', 'body', 'tag'] as const) {
    test(`a flipped bit in the ${at} is detected`, () => {
      expect(() => box.open(tamper(box.seal('secret value'), at))).toThrow()
    })
  }
  test('another key cannot open it; unknown versions are refused', () => {
    const sealed = box.seal('secret')
    expect(() => new SecretBox(randomBytes(32)).open(sealed)).toThrow()
    expect(() => box.open('v9:' + sealed.slice(3))).toThrow(/unknown secret format/)
  })
})

describe('master key', () => {
  test('generated once into the data dir with mode 0600 and reused', () => {
    const dir = tmp()
    const k1 = createKernel(cfg(dir), { log: quiet })
    const sealed = k1.secrets.seal('kept')
    k1.close()
    const file = join(dir, 'master.key')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const key = readFileSync(file, 'utf8')
    const k2 = createKernel(cfg(dir), { log: quiet })
    expect(k2.secrets.open(sealed)).toBe('kept')
    k2.close()
    expect(readFileSync(file, 'utf8')).toBe(key)
  })

  test('starting with a different key fails at once with a clear message and changes nothing', () => {
    const dir = tmp()
    createKernel(cfg(dir, { AGENTBASE_SECRET_KEY: 'the-original-key-0123456789abcdefghij' }), { log: quiet }).close()
    const before = readFileSync(join(dir, 'agentbase.db'))
    let err: unknown
    try { createKernel(cfg(dir, { AGENTBASE_SECRET_KEY: 'a-different-key-0123456789abcdefghij' }), { log: quiet }) } catch (e) { err = e }
    expect(err).toBeInstanceOf(MasterKeyError)
    expect((err as Error).message).toMatch(/master key does not match.*AGENTBASE_SECRET_KEY/)
    expect(readFileSync(join(dir, 'agentbase.db')).equals(before)).toBe(true)
    createKernel(cfg(dir, { AGENTBASE_SECRET_KEY: 'the-original-key-0123456789abcdefghij' }), { log: quiet }).close()
  })
})

describe('migrations', () => {
  const names = (db: ReturnType<typeof openDb>) => db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((r) => r.name)

  test('the embedded list is ordered NNNN_name.sql, unique, and the pragmas of DESIGN §4 are set', () => {
    const list = migrations.map((m) => m.name)
    for (const n of list) expect(n).toMatch(/^\d{4}_[a-z0-9_]+\.sql$/)
    expect([...list].sort()).toEqual(list)
    expect(new Set(list.map((n) => n.slice(0, 4))).size).toBe(list.length)
    const db = openDb(join(tmp(), 'p.db'))
    expect(db.query('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
    expect(db.query('PRAGMA synchronous').get()).toEqual({ synchronous: 2 })
    expect(db.query('PRAGMA foreign_keys').get()).toEqual({ foreign_keys: 1 })
    expect(db.query('PRAGMA busy_timeout').get()).toEqual({ timeout: 5000 })
    db.close()
    const normal = openDb(join(tmp(), 'n.db'), 'normal')
    expect(normal.query('PRAGMA synchronous').get()).toEqual({ synchronous: 1 })
    normal.close()
  })

  test('apply in order, each recorded once; a rerun applies nothing', () => {
    const db = openDb(join(tmp(), 'm.db'))
    const list = [
      { name: '0001_a.sql', sql: 'CREATE TABLE a (x INTEGER PRIMARY KEY);\nINSERT INTO a VALUES (1);' },
      { name: '0002_b.sql', sql: 'CREATE TABLE b (y INTEGER REFERENCES a(x));\nINSERT INTO b SELECT x FROM a;' },
    ]
    expect(migrate(db, list, () => 'T')).toEqual(['0001_a.sql', '0002_b.sql'])
    expect(db.query('SELECT y FROM b').all()).toEqual([{ y: 1 }])
    expect(migrationStatus(db, list)).toEqual([{ name: '0001_a.sql', applied_at: 'T' }, { name: '0002_b.sql', applied_at: 'T' }])
    expect(migrate(db, list)).toEqual([])
    expect(db.query('PRAGMA synchronous').get()).toEqual({ synchronous: 2 }) // FULL again after migrating
    db.close()
  })

  test('a failing migration names the file and the SQL error and leaves the database as it was', () => {
    const db = openDb(join(tmp(), 'f.db'))
    migrate(db, [{ name: '0001_a.sql', sql: 'CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);' }])
    const broken = [
      { name: '0001_a.sql', sql: 'unused: already applied' },
      { name: '0002_half.sql', sql: 'CREATE TABLE half (z INTEGER);\nINSERT INTO a VALUES (2);\nINSERT INTO no_such_table VALUES (1);' },
      { name: '0003_later.sql', sql: 'CREATE TABLE later (w INTEGER);' },
    ]
    let err: unknown
    try { migrate(db, broken) } catch (e) { err = e }
    expect(err).toBeInstanceOf(MigrationError)
    expect((err as Error).message).toBe('migration 0002_half.sql failed: no such table: no_such_table')
    expect(names(db)).toEqual(['a', 'schema_migrations'])
    expect(db.query('SELECT x FROM a').all()).toEqual([{ x: 1 }])
    expect(migrationStatus(db, broken).map((m) => !!m.applied_at)).toEqual([true, false, false])
    expect(db.query('PRAGMA synchronous').get()).toEqual({ synchronous: 2 })
    broken[1].sql = 'CREATE TABLE half (z INTEGER);'
    expect(migrate(db, broken)).toEqual(['0002_half.sql', '0003_later.sql'])
    db.close()
  })

  test('a kernel whose migration fails does not start, and closes the database', () => {
    const dir = tmp()
    createKernel(cfg(dir), { log: quiet }).close()
    const db = openDb(join(dir, 'agentbase.db'))
    db.exec("DELETE FROM schema_migrations WHERE name = '0001_foundation.sql'") // as if it had never run: CREATE TABLE meta fails
    db.close()
    expect(() => createKernel(cfg(dir), { log: quiet })).toThrow(/migration 0001_foundation\.sql failed: table meta already exists/)
  })
})

describe('outbound guard', () => {
  const open = new OutboundGuard([])
  const refused = [
    'http://127.0.0.1/', 'http://127.1.2.3:8080/x', 'http://localhost/', 'http://10.1.2.3/', 'http://172.16.0.1/', 'http://172.31.255.255/',
    'http://192.168.1.1/', 'http://169.254.169.254/latest/meta-data/', 'http://100.64.0.1/', 'http://0.0.0.0/', 'http://[::1]/',
    'http://[::]/', 'http://[fe80::1]/', 'http://[fc00::1]/', 'http://[fd12:3456::1]/', 'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:a9fe:a9fe]/', 'http://[::ffff:10.0.0.1]/', 'http://[::127.0.0.1]/', 'http://[64:ff9b::a00:1]/',
    'http://2130706433/', 'http://0x7f.1/', 'http://017700000001/', 'http://224.0.0.1/',
  ]
  for (const url of refused) {
    test(`refuses ${url}`, async () => {
      const err = await open.check(url).then(() => null, (e) => e)
      expect(err).toBeInstanceOf(ApiError)
      expect(err.status).toBe(400)
      expect(err.code).toBe('url_refused')
      expect(err.message).toMatch(/private or reserved address.*AGENTBASE_OUTBOUND_ALLOW/)
    })
  }

  const invalid = [
    { url: 'ftp://example.com/file', code: 'url_refused', error: /scheme "ftp" is not allowed/ },
    { url: 'file:///etc/passwd', code: 'url_refused', error: /scheme "file"/ },
    { url: 'gopher://127.0.0.1:6379/_', code: 'url_refused', error: /scheme "gopher"/ },
    { url: 'not a url', code: 'url_invalid', error: /Invalid URL/ },
    { url: 'http://no-such-host.invalid/', code: 'url_unresolvable', error: /Could not resolve host "no-such-host.invalid"/ },
  ]
  for (const c of invalid) {
    test(`refuses ${c.url}`, async () => {
      const err = await open.check(c.url).then(() => null, (e) => e)
      expect(err?.code).toBe(c.code)
      expect(err.message).toMatch(c.error)
    })
  }

  for (const url of ['http://93.184.216.34/', 'https://1.1.1.1/dns-query', 'http://[2606:4700:4700::1111]/', 'https://8.8.8.8:8443/a?b=c']) {
    test(`allows public ${url}`, async () => {
      expect((await open.check(url)).href).toBe(new URL(url).href)
    })
  }

  const allow = new OutboundGuard(['127.0.0.1', '10.0.0.0/8', 'fd00::/8', 'internal.example'])
  const allowCases = [
    { url: 'http://127.0.0.1:8080/hook', ok: true },
    { url: 'http://127.0.0.2/', ok: false },
    { url: 'http://10.200.3.4/', ok: true },
    { url: 'http://192.168.0.1/', ok: false },
    { url: 'http://[fd00::5]/', ok: true },
    { url: 'http://[fe80::1]/', ok: false },
    { url: 'http://[::ffff:10.1.1.1]/', ok: true },
    { url: 'http://internal.example/x', ok: true },
    { url: 'http://169.254.169.254/', ok: false },
  ]
  for (const c of allowCases) {
    test(`allowlist ${c.ok ? 'admits' : 'still refuses'} ${c.url}`, async () => {
      const ok = await allow.check(c.url).then(() => true, () => false)
      expect(ok).toBe(c.ok)
      expect(allow.isAllowlisted(c.url)).toBe(c.ok)
    })
  }

  describe('safeFetch', () => {
    const server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch(req) {
        const path = new URL(req.url).pathname
        if (path === '/to-private') return Response.redirect('http://10.0.0.1/admin', 302)
        if (path === '/to-metadata') return Response.redirect('http://169.254.169.254/latest/meta-data/', 301)
        if (path === '/to-loopback-v6') return Response.redirect('http://[::1]:9/', 307)
        if (path === '/to-ok') return Response.redirect('/final', 302)
        if (path === '/final') return new Response('landed')
        if (path === '/big') return new Response('y'.repeat(100_000))
        if (path === '/hang') return new Promise<Response>(() => {})
        return new Response('no', { status: 404 })
      },
    })
    afterAll(() => server.stop(true))
    const guard = new OutboundGuard(['127.0.0.1'])
    const base = `http://127.0.0.1:${server.port}`

    for (const path of ['/to-private', '/to-metadata', '/to-loopback-v6']) {
      test(`a redirect to a private address is refused (${path})`, async () => {
        const err = await safeFetch(guard, base + path).then(() => null, (e) => e)
        expect(err).toBeInstanceOf(ApiError)
        expect(err.code).toBe('url_refused')
      })
    }
    test('an allowed redirect is followed', async () => {
      const r = await safeFetch(guard, base + '/to-ok')
      expect(r).toMatchObject({ status: 200, body: 'landed', url: base + '/final', truncated: false })
    })
    test('bodies are capped', async () => {
      const r = await safeFetch(guard, base + '/big', {}, { maxBytes: 1000 })
      expect(r.body.length).toBe(1000)
      expect(r.truncated).toBe(true)
    })
    test('a hanging upstream times out with 504', async () => {
      const err = await safeFetch(guard, base + '/hang', {}, { timeoutMs: 200 }).then(() => null, (e) => e)
      expect(err.status).toBe(504)
      expect(err.message).toMatch(/timed out after 200 ms/)
    })
    test('without the allowlist, the loopback server itself is refused', async () => {
      const err = await safeFetch(new OutboundGuard([]), base + '/final').then(() => null, (e) => e)
      expect(err.code).toBe('url_refused')
    })
  })
})

describe('config', () => {
  test('defaults per DESIGN §8', () => {
    const c = loadConfig({})
    expect(c).toMatchObject({ port: 8090, host: '0.0.0.0', secretKey: null, publicUrl: null, trustProxy: false, openRegistration: false, outboundAllow: [], allowStdioMcp: false, sync: 'full', billing: false, metricsToken: null, logLevel: 'info' })
    expect(c.dataDir).toBe(join(process.cwd(), 'data'))
    expect(c.platformApis.telegram).toBe('https://api.telegram.org')
    expect(c.llmBaseUrls.openai).toBe('https://api.openai.com/v1')
  })
  test('values are parsed and trimmed', () => {
    const c = loadConfig({ PORT: '9000', AGENTBASE_OUTBOUND_ALLOW: ' 127.0.0.1, 10.0.0.0/8 ,', AGENTBASE_TRUST_PROXY: 'true', AGENTBASE_PUBLIC_URL: 'https://x.example/', AGENTBASE_BILLING: 'on', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1/' })
    expect(c).toMatchObject({ port: 9000, outboundAllow: ['127.0.0.1', '10.0.0.0/8'], trustProxy: { hops: 1 }, publicUrl: 'https://x.example', billing: true })
    expect(c.llmBaseUrls.openai).toBe('http://127.0.0.1:1/v1')
  })
  const bad = [
    { env: { PORT: 'eighty' }, error: /PORT must be a non-negative integer, got "eighty"/ },
    { env: { AGENTBASE_SYNC: 'sometimes' }, error: /AGENTBASE_SYNC must be "full" or "normal"/ },
    { env: { AGENTBASE_BILLING: 'maybe' }, error: /AGENTBASE_BILLING must be "on" or "off"/ },
    { env: { LOG_LEVEL: 'loud' }, error: /LOG_LEVEL must be/ },
    { env: { AGENTBASE_PASSWORD_MEMORY_KIB: '10' }, error: /AGENTBASE_PASSWORD_MEMORY_KIB must be at least 1024/ },
  ]
  for (const b of bad) {
    test(`invalid ${Object.keys(b.env)[0]} is a clear ConfigError`, () => {
      expect(() => loadConfig(b.env)).toThrow(ConfigError)
      expect(() => loadConfig(b.env)).toThrow(b.error)
    })
  }
})
