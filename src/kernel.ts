import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Config } from './config'
import { systemClock, type Clock } from './clock'
import { createLogger, type Logger } from './log'
import { openDb, type Db } from './db/open'
import { migrate } from './db/migrate'
import { migrations } from '../migrations/index'
import { SecretBox, deriveKey } from './secrets/box'
import { createLucia, type AuthSessions } from './auth/sessions'
import { RateLimiter } from './http/rate-limit'
import { OutboundGuard } from './tools/outbound'
import { EventBus } from './events/bus'
import { Metrics } from './http/metrics'
import { Workers } from './scheduler/workers'
import type { Principal } from './auth/principal'
import { VERSION } from './version'
import { flushTouched } from './auth/authenticate'
import { lockDataDir } from './db/lock'

/** Resolves an API key with a registered prefix (e.g. `bot_`) into a principal, or null if unknown. */
export type KeyResolver = (key: string) => Principal | null

export interface Kernel {
  config: Config
  db: Db
  clock: Clock
  log: Logger
  secrets: SecretBox
  jwtSecret: string
  sessions: AuthSessions
  limiter: RateLimiter
  outbound: OutboundGuard
  events: EventBus
  metrics: Metrics
  workers: Workers
  /** API key prefixes other than `ab_pat_` that domains teach the auth guard (bot accounts: `bot_`). */
  keyResolvers: Map<string, KeyResolver>
  /** Pending last-used timestamps, flushed in batches so no write sits on the request path. */
  touched: Map<string, string>
  version: string
  startedAt: number
  /** Per-kernel singletons a domain owns (MCP client pool, inbox queue, ...): created on first use. */
  singleton<T>(key: string, create: () => T): T
  close(): void
}

export interface KernelOptions {
  clock?: Clock
  log?: Logger
  /** Create the database when it does not exist (serve); CLI commands refuse instead (wrong data dir). */
  create?: boolean
}

export class NoDatabaseError extends Error {}

export const databasePath = (config: Config) => join(config.dataDir, 'agentbase.db')

/** The refusal a command gets when the data dir holds no database: probably the wrong directory. */
export const noDatabase = (config: Config) =>
  new NoDatabaseError(`no database at ${databasePath(config)}; set AGENTBASE_DATA_DIR (or --data-dir) to the data dir your server uses, or run "agentbase serve" once to create one`)

export class MasterKeyError extends Error {}

/** The configured or stored master key, or null when neither exists yet (nothing generated). */
export function existingMasterKey(config: Config): Buffer | null {
  if (config.secretKey) return Buffer.from(config.secretKey, 'utf8')
  const file = join(config.dataDir, 'master.key')
  return existsSync(file) ? Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8') : null
}

function loadMasterKey(config: Config): Buffer {
  const existing = existingMasterKey(config)
  if (existing) return existing
  const file = join(config.dataDir, 'master.key')
  const key = randomBytes(32).toString('base64url')
  writeFileSync(file, key + '\n', { mode: 0o600 })
  chmodSync(file, 0o600)
  return Buffer.from(key, 'utf8')
}

/** What `meta.master_key_check` holds for a key. */
export const masterKeyCheck = (key: Buffer) => deriveKey(key, 'check').toString('hex')

/** A stored check value of the master key: starting with another key fails at once, loudly. */
function checkMasterKey(db: Db, key: Buffer) {
  const check = masterKeyCheck(key)
  const row = db.query<{ value: string }, [string]>('SELECT value FROM meta WHERE key = ?').get('master_key_check')
  if (!row) db.query('INSERT INTO meta (key, value) VALUES (?, ?)').run('master_key_check', check)
  else if (row.value !== check) {
    throw new MasterKeyError('The master key does not match the one this database was created with. Set AGENTBASE_SECRET_KEY to the original key (or restore master.key in the data dir); secrets would otherwise be unreadable.')
  }
}

export function createKernel(config: Config, opts: KernelOptions = {}): Kernel {
  if (opts.create === false && !existsSync(databasePath(config))) throw noDatabase(config)
  // Owner-only when we create it: the database, its WAL, backups' source and the master key live here.
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const clock = opts.clock ?? systemClock
  const log = opts.log ?? createLogger(config.logLevel)
  // One writer per data dir, before anything is written there (even a generated master key).
  const lock = lockDataDir(config.dataDir)
  let db: Db
  let masterKey: Buffer
  try {
    masterKey = loadMasterKey(config)
    db = openDb(databasePath(config), config.sync)
  } catch (err) {
    lock.release()
    throw err
  }
  try {
    migrate(db, migrations, () => new Date(clock.now()).toISOString())
    checkMasterKey(db, masterKey)
  } catch (err) {
    db.close()
    lock.release()
    throw err
  }
  const singletons = new Map<string, unknown>()
  const closers: Array<() => void> = []
  const k: Kernel = {
    config,
    db,
    clock,
    log,
    secrets: new SecretBox(masterKey),
    jwtSecret: deriveKey(masterKey, 'jwt').toString('base64url'),
    sessions: createLucia(db),
    limiter: new RateLimiter(clock),
    outbound: new OutboundGuard(config.outboundAllow),
    events: new EventBus(db, clock),
    metrics: new Metrics(),
    workers: new Workers(log),
    keyResolvers: new Map(),
    touched: new Map(),
    version: VERSION,
    startedAt: clock.now(),
    singleton<T>(key: string, create: () => T): T {
      if (!singletons.has(key)) {
        const v = create()
        singletons.set(key, v)
        const close = (v as { close?: () => void })?.close
        if (typeof close === 'function') closers.push(() => close.call(v))
      }
      return singletons.get(key) as T
    },
    close() {
      for (const c of closers.reverse()) { try { c() } catch { /* closing anyway */ } }
      try { flushTouched(k) } catch { /* best effort: last-used times are advisory */ }
      db.close()
      lock.release()
    },
  }
  // API tokens' last-used times are batched off the request path (src/auth/authenticate.ts).
  k.workers.register({
    name: 'auth.touch-flush',
    start() {
      const timer = setInterval(() => flushTouched(k), 5000)
      return () => { clearInterval(timer); flushTouched(k) }
    },
  })
  return k
}
