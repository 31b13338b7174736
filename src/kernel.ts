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
import { createRuns } from './runs/service'
import type { RunService } from './runs/types'
import type { WalletLedger } from './runs/billing'
import { ToolRegistry } from './tools/registry'
import { McpPool } from './tools/mcp-pool'
import { AuditWriter } from './tools/audit'
import { DeliveryEngine } from './events/delivery'

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
  /** The run service every surface uses (DESIGN §12, src/runs/). */
  runs: RunService
  /** The owner's wallet as billing needs it; provided by the wallet domain's register(k). */
  wallet: WalletLedger
  /** Tool providers (registered by domains' register(k)) and the catalog cache: workspaceToolSet() reads it. */
  tools: ToolRegistry
  /** MCP client pool (created on first use). */
  mcp: McpPool
  /** Batched tool-call audit writer (created on first use). */
  toolAudit: AuditWriter
  /** Outbound webhook delivery engine (created on first use). */
  deliveries: DeliveryEngine
  /** Runs `fn` when the kernel closes (before the database closes), last registered first. */
  onClose(fn: () => void): void
  /** API key prefixes other than `ab_pat_` that domains teach the auth guard (bot accounts: `bot_`). */
  keyResolvers: Map<string, KeyResolver>
  /** Pending last-used timestamps, flushed in batches so no write sits on the request path. */
  touched: Map<string, string>
  /**
   * Elysia's plugin seed (`new Elysia({ name, seed: k.seed })`): plugins dedupe per name and kernel. A number,
   * because Elysia hashes JSON.stringify(seed) on every use: the whole kernel was ~2 KB a use at start-up.
   */
  seed: number
  version: string
  startedAt: number
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

/** Until the wallet domain registers (plugins/wallet/register.ts), a run that would pay fails loudly. */
const missingWallet: WalletLedger = {
  balanceMicro() { throw new Error('no wallet registered: call registerDomains(k) (src/app.ts) before running agents') },
  debit() { throw new Error('no wallet registered: call registerDomains(k) (src/app.ts) before running agents') },
}

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

/**
 * A domain's per-kernel object (a queue, a runtime, a throttle), typed and created on first use, closed with
 * the kernel (`close()` when it has one). Keyed by the accessor itself, never by a string:
 *   export const callbacks = perKernel((k) => new Callbacks(k))
 */
export function perKernel<T>(create: (k: Kernel) => T): (k: Kernel) => T {
  const all = new WeakMap<Kernel, T>()
  return (k) => {
    let v = all.get(k)
    if (v === undefined) {
      const made = create(k)
      v = made
      all.set(k, made)
      const close = (made as { close?: () => void } | null)?.close
      if (typeof close === 'function') k.onClose(() => close.call(made))
    }
    return v
  }
}

/**
 * A typed service created on first use and closed with the kernel. Not enumerable: plugins pass the kernel as
 * Elysia's `seed`, which Elysia JSON-stringifies, and services hold the kernel (a cycle).
 */
function lazy<N extends 'mcp' | 'toolAudit' | 'deliveries'>(k: Kernel, name: N, create: () => Kernel[N], closers: Array<() => void>) {
  let v: Kernel[N] | undefined
  Object.defineProperty(k, name, {
    enumerable: false,
    get() {
      if (v === undefined) {
        const made = create()
        v = made
        const close = (made as { close?: () => void }).close
        if (typeof close === 'function') closers.push(() => close.call(made))
      }
      return v
    },
  })
}

let kernelCount = 0

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
    runs: undefined as unknown as RunService, // created below: it needs the kernel
    wallet: missingWallet,
    tools: new ToolRegistry(),
    mcp: undefined as unknown as McpPool, // the lazy services are defined below
    toolAudit: undefined as unknown as AuditWriter,
    deliveries: undefined as unknown as DeliveryEngine,
    onClose(fn) { closers.push(fn) },
    keyResolvers: new Map(),
    touched: new Map(),
    seed: ++kernelCount,
    version: VERSION,
    startedAt: clock.now(),
    close() {
      for (const c of closers.reverse()) { try { c() } catch { /* closing anyway */ } }
      try { flushTouched(k) } catch { /* best effort: last-used times are advisory */ }
      db.close()
      lock.release()
    },
  }
  lazy(k, 'mcp', () => new McpPool(k), closers)
  lazy(k, 'toolAudit', () => new AuditWriter(k), closers)
  lazy(k, 'deliveries', () => new DeliveryEngine(k), closers)
  const runs = createRuns(k)
  Object.defineProperty(k, 'runs', { value: runs, enumerable: false })
  closers.push(() => runs.close())
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
