import { isIP } from '../ip-literal'
import type { Kernel } from '../kernel'
import { ApiError } from '../http/errors'
import { guardedFetch, readCapped } from '../tools/outbound'
import type { AttemptResult, DueDelivery } from './delivery-store'
import { parseRetryAfter } from '../http/retry'
import { HmacSigner } from './sign'

const EXCERPT_CHARS = 1024

/** Seconds or an HTTP date -> milliseconds from `now`; null when absent or unreadable (the one parser, src/http/retry.ts). */
export { parseRetryAfter } from '../http/retry'

/**
 * One attempt of one delivery, per Standard Webhooks 1.0: signed with native HMAC-SHA256
 * (`HmacSigner`, byte-equal to the `standardwebhooks` package; `webhook-id` = the delivery id, stable
 * across retries; `webhook-timestamp` = this attempt), through the outbound guard, no redirects, a
 * timeout, and a capped response excerpt.
 */
export class SignedSender {
  private passedIpUrls = new Set<string>()
  private signers = new Map<string, { sealed: string; signer: HmacSigner }>()
  private userAgent: string
  constructor(private k: Kernel, readonly timeoutMs: number) {
    this.userAgent = `Agentbase-Webhooks/${k.version}`
  }

  /**
   * The outbound guard on every attempt (DNS may change between attempts). Only URLs whose host is an
   * IP literal are remembered once passed: their answer cannot change (the allowlist is static config).
   */
  private async guard(url: string) {
    const u = await this.k.outbound.check(url)
    if (isIP(u.hostname.replace(/^\[|\]$/g, ''))) {
      if (this.passedIpUrls.size > 10_000) this.passedIpUrls.clear()
      this.passedIpUrls.add(url)
    }
  }

  /** One signer per webhook and sealed secret (a new secret makes a new signer). */
  private signer(d: DueDelivery): HmacSigner {
    const cached = this.signers.get(d.webhook_id)
    if (cached && cached.sealed === d.secret) return cached.signer
    const signer = new HmacSigner(this.k.secrets.open(d.secret))
    if (this.signers.size > 10_000) this.signers.clear()
    this.signers.set(d.webhook_id, { sealed: d.secret, signer })
    return signer
  }

  /** One signed POST. Never throws: every outcome becomes a result to record. */
  async send(d: DueDelivery): Promise<AttemptResult> {
    const at = this.k.clock.now()
    const t0 = performance.now()
    let status: number | null = null
    let excerpt: string | null = null
    let error: string | null = null
    let retryAfterMs: number | null = null
    const timeout = AbortSignal.timeout(this.timeoutMs)
    try {
      const ts = Math.floor(at / 1000)
      const signature = this.signer(d).sign(d.id, ts, d.payload)
      if (!this.passedIpUrls.has(d.url)) await this.guard(d.url)
      // Redirects are never followed (3xx is a failure), so nothing reaches a place the guard would refuse.
      const res = await guardedFetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': this.userAgent,
          'webhook-id': d.id,
          'webhook-timestamp': String(ts),
          'webhook-signature': signature,
        },
        body: d.payload,
      }, { guard: null /* checked just above */, signal: timeout })
      status = res.status
      // Small answers with a declared length are read whole; anything else is read under the cap.
      const declared = Number(res.headers.get('content-length') ?? NaN)
      const text = declared >= 0 && declared <= EXCERPT_CHARS * 4 ? await res.text() : (await readCapped(res, EXCERPT_CHARS * 4)).text
      excerpt = text ? text.slice(0, EXCERPT_CHARS) : null
      retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), at)
    } catch (err) {
      const host = (() => { try { return new URL(d.url).host } catch { return d.url } })()
      if (err instanceof ApiError) error = err.message
      else if (timeout.aborted) error = `Request to ${host} timed out after ${this.timeoutMs} ms`
      else error = `Request to ${host} failed: ${(err as Error).message || 'connection error'}`
    }
    return { delivery: d, at, status, latencyMs: Math.round(performance.now() - t0), excerpt, error, retryAfterMs }
  }
}
