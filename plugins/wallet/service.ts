import type { Kernel } from '../../src/kernel'
import { ApiError, notFound } from '../../src/http/errors'
import { timeOrderedId } from '../../src/db/ids'
import { iso } from '../../src/clock'
import { userExists } from '../auth/service'
import { walletStore } from './store'

/** Money is integer micro-cents (1 cent = 1,000,000); the API shows cents as numbers. */
export const MICRO_PER_CENT = 1_000_000
export const toCents = (micro: number) => micro / MICRO_PER_CENT
export const fromCents = (cents: number) => Math.round(cents * MICRO_PER_CENT)

export interface LedgerEntry {
  id: string; kind: 'credit' | 'debit'; amount_cents: number; balance_after_cents: number; reason: string
  ref_type: string | null; ref_id: string | null; note: string | null; created_at: string
}

export function balanceMicro(k: Kernel, userId: string): number {
  return walletStore(k.db).balance(userId)
}

function move(k: Kernel, userId: string, kind: 'credit' | 'debit', micro: number, reason: string, ref?: { type: string; id: string }, note?: string | null) {
  if (micro <= 0) return balanceMicro(k, userId)
  const ms = k.clock.now()
  const now = iso(ms)
  const delta = kind === 'credit' ? micro : -micro
  const store = walletStore(k.db)
  const after = store.add(userId, delta, now)
  store.record({
    id: timeOrderedId('wle', ms), user_id: userId, kind, amount_micro: micro, balance_after_micro: after, reason, ref_type: ref?.type ?? null,
    ref_id: ref?.id ?? null, note: note ?? null, created_at: now,
  })
  return after
}

/**
 * Debits run costs. Call inside the transaction that records the run, so the charge and the run
 * commit together. Never refuses: the balance may go negative; `assertCanSpend` gates before running.
 */
export function debit(k: Kernel, userId: string, micro: number, reason: string, ref?: { type: string; id: string }) {
  const after = move(k, userId, 'debit', micro, reason, ref)
  const threshold = fromCents(100)
  if (micro > 0 && after < threshold && after + micro >= threshold) {
    k.events.publish('wallet.balance.low', { user_id: userId, balance_cents: toCents(after), threshold_cents: toCents(threshold) }, { ownerId: userId })
  }
  return after
}

export const credit = (k: Kernel, userId: string, micro: number, note: string | null, by: string) =>
  move(k, userId, 'credit', micro, 'credit', { type: 'user', id: by }, note)

/** With AGENTBASE_BILLING=on, a run whose owner's balance is not positive is refused before calling the model. */
export function assertCanSpend(k: Kernel, userId: string) {
  if (!k.config.billing) return
  if (balanceMicro(k, userId) <= 0) throw new ApiError(402, 'Wallet balance is empty; add credit to run agents on the platform key', 'wallet_empty')
}

export function summary(k: Kernel, userId: string, limit = 50) {
  const rows = walletStore(k.db).ledger(userId, limit)
  return {
    balance_cents: toCents(balanceMicro(k, userId)),
    billing_enforced: k.config.billing,
    entries: rows.map((r): LedgerEntry => ({
      id: r.id, kind: r.kind, amount_cents: toCents(r.amount_micro), balance_after_cents: toCents(r.balance_after_micro), reason: r.reason,
      ref_type: r.ref_type, ref_id: r.ref_id, note: r.note, created_at: r.created_at,
    })),
  }
}

export function requireUser(k: Kernel, userId: string) {
  if (!userExists(k, userId)) throw notFound('User')
}

export { registerInvoiceSchedule } from './invoices'
