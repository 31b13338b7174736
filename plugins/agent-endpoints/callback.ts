import { createHmac } from 'node:crypto'
import { perKernel, type Kernel } from '../../src/kernel'
import { safeFetch } from '../../src/tools/outbound'
import type { RunView } from '../../src/runs/types'
import { HmacSigner } from '../../src/events/sign'
import { parseRetryAfter, withJitter } from '../../src/http/retry'
import { endpointsStore } from './store'
import { syncShape } from './execute'

/**
 * Async runs' `callback_url`: when the run ends we POST its result there, signed per Standard Webhooks 1.0 with
 * the endpoint's `whsec_` callback secret (shown on create and regenerate-key), so `standardwebhooks` and `svix`
 * verify it as is:
 *
 *   webhook-id: run_...            (stable across retries: the idempotency key)
 *   webhook-timestamp: <unix seconds of this attempt>
 *   webhook-signature: v1,<base64 HMAC-SHA256(base64-decoded secret, "<id>.<timestamp>.<raw body>")>
 *
 * and, for receivers written before that, also signed with the endpoint's API key:
 *
 *   X-Agentbase-Timestamp: <unix seconds>
 *   X-Agentbase-Signature: sha256=<hex HMAC-SHA256(key = the endpoint's aek_ key, message = "<timestamp>.<raw body>")>
 *   X-Agentbase-Run-Id: run_...        (stable across retries: the idempotency key)
 *   X-Agentbase-Attempt: 1..6
 *
 * Receivers recompute the HMAC over the raw body, compare in constant time, and refuse timestamps older than
 * 5 minutes. Any 2xx is success; anything else (3xx included: redirects are not followed) is retried after
 * 1 s, 5 s, 30 s, 2 min and 10 min (plus up to 10% jitter, or the receiver's Retry-After when longer), then given up (`callback.status: failed` on GET /api/runs/:id).
 * Delivery state lives on the run row, so pending callbacks survive a restart. Every request goes through
 * the outbound guard.
 */
export const SIGNATURE_HEADER = 'X-Agentbase-Signature'
export const TIMESTAMP_HEADER = 'X-Agentbase-Timestamp'
export const RETRY_DELAYS_MS = [1000, 5000, 30_000, 120_000, 600_000]
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1

export const signCallback = (key: string, timestamp: number | string, body: string) =>
  `sha256=${createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')}`

export function callbackPayload(row: RunView) {
  const { run_id, ...result } = syncShape(row)
  const failed = row.error !== null
  return {
    type: failed ? 'run.failed' : 'run.completed', run_id, endpoint_id: row.source_id, status: row.status, ...result,
    ...(failed ? { error: row.error, code: row.error_code } : {}), created_at: row.created_at, finished_at: row.finished_at,
  }
}

export class Callbacks {
  private timers = new Set<ReturnType<typeof setTimeout>>()
  private inflight = new Set<Promise<void>>()
  /** Runs with an attempt scheduled or in flight: one delivery chain per run, never two in parallel. */
  private active = new Set<string>()
  private stopped = false

  constructor(private k: Kernel) {}

  schedule(runId: string, delayMs = 0) {
    if (this.stopped || this.active.has(runId)) return
    this.active.add(runId)
    this.later(runId, delayMs)
  }

  private later(runId: string, delayMs: number) {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      const p = this.attempt(runId)
        .then((again) => { if (again !== null && !this.stopped) this.later(runId, again); else this.active.delete(runId) })
        .catch((err) => { this.active.delete(runId); this.k.log.error('callback attempt failed', { run_id: runId, error: String(err) }) })
      this.inflight.add(p)
      p.finally(() => this.inflight.delete(p))
    }, delayMs)
    this.timers.add(timer)
  }

  /** Re-schedules callbacks still pending in the database (after a restart). */
  resume() {
    for (const row of this.k.runs.pendingCallbacks()) this.schedule(row.id, 0)
  }

  /** One delivery attempt; returns the delay before the next one, or null when done (delivered or given up). */
  private async attempt(runId: string): Promise<number | null> {
    const store = this.k.runs
    const row = store.get(runId)
    if (!row || row.callback_status !== 'pending' || !row.callback_url || !row.source_id) return null
    const ep = endpointsStore(this.k.db).get(row.source_id)
    if (!ep) return null
    const attempt = row.callback_attempts + 1
    const body = JSON.stringify(callbackPayload(row))
    const ts = Math.floor(this.k.clock.now() / 1000)
    let status: number | null = null
    let retryAfter: number | null = null
    try {
      const res = await safeFetch(this.k.outbound, row.callback_url, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json', 'user-agent': `agentbase/${this.k.version}`, 'x-agentbase-run-id': row.id,
          'x-agentbase-attempt': String(attempt), [TIMESTAMP_HEADER.toLowerCase()]: String(ts),
          [SIGNATURE_HEADER.toLowerCase()]: signCallback(this.k.secrets.open(ep.key_sealed), ts, body),
          ...(ep.callback_secret_sealed ? {
            'webhook-id': row.id, 'webhook-timestamp': String(ts),
            'webhook-signature': new HmacSigner(this.k.secrets.open(ep.callback_secret_sealed)).sign(row.id, ts, body),
          } : {}),
        },
      }, { timeoutMs: 10_000, maxBytes: 16 * 1024, maxRedirects: 0 })
      status = res.status
      retryAfter = parseRetryAfter(res.headers.get('retry-after'), this.k.clock.now(), RETRY_DELAYS_MS.at(-1))
    } catch (err) {
      this.k.log.warn('run callback failed', { run_id: row.id, attempt, error: (err as Error).message })
    }
    if (status !== null && status >= 200 && status < 300) {
      store.setCallback(row.id, 'delivered', attempt, status)
      return null
    }
    if (attempt >= MAX_ATTEMPTS) {
      store.setCallback(row.id, 'failed', attempt, status)
      return null
    }
    store.setCallback(row.id, 'pending', attempt, status)
    this.k.log.warn('run callback not accepted; retrying', { run_id: row.id, attempt, status })
    return Math.max(withJitter(RETRY_DELAYS_MS[attempt - 1], 0.1), retryAfter ?? 0)
  }

  /** Stops scheduling; in-flight attempts finish. Pending ones resume at the next start. */
  async stop() {
    this.stopped = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    await Promise.allSettled([...this.inflight])
    this.active.clear()
  }

  start() { this.stopped = false }
  close() { this.stopped = true; for (const t of this.timers) clearTimeout(t) }
}

export const callbacks = perKernel((k) => new Callbacks(k))
