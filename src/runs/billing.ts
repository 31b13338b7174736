import type { Kernel } from '../kernel'
import { ApiError } from '../http/errors'
import { estimateTokens } from '../agent/run'
import { priceOf } from '../llm/pricing'
import type { AgentSpec } from '../agent/types'
import type { RunRequest, RunView } from './types'

/**
 * Billing for every run (DESIGN §12, hardening item 7): one gate, one reservation, one debit path.
 *
 * Before the model is called, `reserve` checks the owner's wallet (AGENTBASE_BILLING=on) and any spending cap
 * against what is already spent PLUS what concurrent runs have reserved, and reserves this run's maximum cost;
 * both happen synchronously (no await in between), so 40 parallel runs cannot all pass a check made before
 * any of them paid. `settle` debits the actual cost inside the run's final transaction and releases the
 * reservation in the same synchronous step. The overshoot is therefore bounded by one run, not by concurrency.
 * Reservations live in memory: a crash loses them together with the runs that held them.
 */

export const MICRO_PER_CENT = 1_000_000
export const toCents = (micro: number) => micro / MICRO_PER_CENT
export const fromCents = (cents: number) => Math.round(cents * MICRO_PER_CENT)

/** The owner's wallet as the billing needs it; provided by the wallet domain's register(k). */
export interface WalletLedger {
  balanceMicro(userId: string): number
  /** Debits inside the caller's transaction; may go negative (the gate is `reserve`). */
  debit(userId: string, micro: number, reason: string, ref: { type: string; id: string }): void
}

/** Whether the owner's wallet pays the LLM cost: by default when the platform key is used. */
export const chargesLlm = (req: RunRequest) =>
  req.billing?.chargeLlm ?? (!req.spec.apiKey && req.spec.provider !== 'custom')

/**
 * An upper bound of a run's LLM cost in micro-cents: every allowed model turn answering `maxTokens`, each
 * turn re-reading the prompt and the previous turns. 0 for unknown prices (those runs are recorded at 0).
 */
export function maxCostMicro(spec: AgentSpec, inputChars: number): number {
  if (spec.provider === 'ollama') return 0
  const p = priceOf(spec.model)
  if (!p) return 0
  const turns = Math.max(1, spec.maxIterations ?? 10)
  const out = Math.max(1, spec.maxTokens ?? 4096)
  const prompt = estimateTokens((spec.systemPrompt?.length ?? 0) + inputChars)
  let micro = 0
  for (let i = 0; i < turns; i++) micro += (prompt + i * out) * p[0] * 100 + out * p[1] * 100
  return Math.round(micro)
}

export interface Reservation { holds: Array<[key: string, micro: number]>; released: boolean }

export class Billing {
  private reserved = new Map<string, number>()
  constructor(private k: Kernel) {}

  private held = (key: string) => this.reserved.get(key) ?? 0

  /** What a run would cost the wallet at most, and whether its wallet is involved at all. */
  private exposure(req: RunRequest) {
    const chars = req.input.message.length + (req.input.history ?? []).reduce((n, m) => n + m.content.length, 0)
    const llm = chargesLlm(req) ? maxCostMicro(req.spec, chars) : 0
    const price = fromCents(req.pricePerRunCents ?? 0)
    return { wallet: chargesLlm(req) || price > 0, walletMicro: llm + price, capMicro: maxCostMicro(req.spec, chars) + price }
  }

  /** Throws ApiError 402 (`wallet_empty`, `spending_cap`) without reserving; for queueing, where the run waits. */
  check(req: RunRequest) {
    this.release(this.reserve(req))
  }

  /** Gate and reserve (synchronously). Throws ApiError 402 when the wallet or a cap cannot take another run. */
  reserve(req: RunRequest): Reservation {
    const x = this.exposure(req)
    const walletKey = `wallet:${req.ownerId}`
    const cap = req.billing?.cap
    if (cap && cap.spent() + this.held(`cap:${cap.key}`) >= cap.limitMicro) {
      throw new ApiError(402, `Spending cap of ${toCents(cap.limitMicro)} cents reached`, 'spending_cap')
    }
    if (x.wallet && this.k.config.billing && this.k.wallet.balanceMicro(req.ownerId) - this.held(walletKey) <= 0) {
      throw new ApiError(402, 'Wallet balance is empty; add credit to run agents on the platform key', 'wallet_empty')
    }
    const r: Reservation = { holds: [], released: false }
    const hold = (key: string, micro: number) => {
      // At least one micro-cent: a reserved run always counts, even when its price is unknown.
      const m = Math.max(1, micro)
      this.reserved.set(key, this.held(key) + m)
      r.holds.push([key, m])
    }
    if (x.wallet) hold(walletKey, x.walletMicro)
    if (cap) hold(`cap:${cap.key}`, x.capMicro)
    return r
  }

  /** Inside the run's final transaction: the debit of what the run actually cost, then the release. */
  settle(r: Reservation | null, run: RunView, req: RunRequest) {
    if (run.charged_micro > 0) {
      this.k.wallet.debit(run.owner_id, run.charged_micro, req.billing?.reason ?? `${run.source} run`, req.billing?.ref ?? { type: 'run', id: run.id })
    }
    if (r) this.release(r)
  }

  release(r: Reservation) {
    if (r.released) return
    r.released = true
    for (const [key, micro] of r.holds) {
      const left = this.held(key) - micro
      if (left > 0) this.reserved.set(key, left)
      else this.reserved.delete(key)
    }
  }
}
