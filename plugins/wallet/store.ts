import type { Db } from '../../src/db/open'
import { perDb } from '../../src/db/per-db'

/** SQL for `wallets` and `wallet_ledger`. Only place with SQL for them. */
export interface LedgerRow {
  id: string; user_id: string; kind: 'credit' | 'debit'; amount_micro: number; balance_after_micro: number; reason: string
  ref_type: string | null; ref_id: string | null; note: string | null; created_at: string
}

const walletStoreOf = (db: Db) => ({
  balance: (userId: string) => db.query<{ b: number }, [string]>('SELECT balance_micro AS b FROM wallets WHERE user_id = ?').get(userId)?.b ?? 0,
  /** Adds `delta` (negative for debits) and returns the new balance; creates the wallet on first use. */
  add: (userId: string, delta: number, at: string) => db.query<{ b: number }, [string, number, string, number, string]>(
    `INSERT INTO wallets (user_id, balance_micro, updated_at) VALUES (?, ?, ?)
     ON CONFLICT(user_id) DO UPDATE SET balance_micro = balance_micro + ?, updated_at = ? RETURNING balance_micro AS b`,
  ).get(userId, delta, at, delta, at)!.b,
  record: (e: LedgerRow) => db.query('INSERT INTO wallet_ledger (id, user_id, kind, amount_micro, balance_after_micro, reason, ref_type, ref_id, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .run(e.id, e.user_id, e.kind, e.amount_micro, e.balance_after_micro, e.reason, e.ref_type, e.ref_id, e.note, e.created_at),
  /** Newest first. */
  ledger: (userId: string, limit: number) => db.query<LedgerRow, [string, number]>('SELECT * FROM wallet_ledger WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?').all(userId, limit),
})

export const walletStore = perDb(walletStoreOf)
