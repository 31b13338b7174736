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
import { createRuns } from './runs/service'
import type { RunService } from './runs/types'
import type { WalletLedger } from './runs/billing'

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

export interface KernelOptions { clock?: Clock; log?: Logger }

export class MasterKeyError extends Error {}

/** Until the wallet domain registers (plugins/wallet/register.ts), a run that would pay fails loudly. */
const missingWallet: WalletLedger = {
  balanceMicro() { throw new Error('no wallet registered: call registerDomains(k) (src/app.ts) before running agents') },
  debit() { throw new Error('no wallet registered: call registerDomains(k) (src/app.ts) before running agents') },
}

function loadMasterKey(config: Config): Buffer {
  if (config.secretKey) return Buffer.from(config.secretKey, 'utf8')
  const file = join(config.dataDir, 'master.key')
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8')
  const key = randomBytes(32).toString('base64url')
  writeFileSync(file, key + '\n', { mode: 0o600 })
  chmodSync(file, 0o600)
  return Buffer.from(key, 'utf8')
}

/** A stored check value of the master key: starting with another key fails at once, loudly. */
function checkMasterKey(db: Db, key: Buffer) {
  const check = deriveKey(key, 'check').toString('hex')
  const row = db.query<{ value: string }, [string]>('SELECT value FROM meta WHERE key = ?').get('master_key_check')
  if (!row) db.query('INSERT INTO meta (key, value) VALUES (?, ?)').run('master_key_check', check)
  else if (row.value !== check) {
    throw new MasterKeyError('The master key does not match the one this database was created with. Set AGENTBASE_SECRET_KEY to the original key (or restore master.key in the data dir); secrets would otherwise be unreadable.')
  }
}

export function createKernel(config: Config, opts: KernelOptions = {}): Kernel {
  mkdirSync(config.dataDir, { recursive: true })
  const clock = opts.clock ?? systemClock
  const log = opts.log ?? createLogger(config.logLevel)
  const masterKey = loadMasterKey(config)
  const db = openDb(join(config.dataDir, 'agentbase.db'), config.sync)
  try {
    migrate(db, migrations, () => new Date(clock.now()).toISOString())
    checkMasterKey(db, masterKey)
  } catch (err) {
    db.close()
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
    runs: undefined as unknown as RunService, // created below: it needs the kernel
    wallet: missingWallet,
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
    },
  }
  const runs = createRuns(k)
  k.runs = runs
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
