import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import * as wallet from './service'
import { listInvoices } from './invoices'

const Entry = t.Object({
  id: t.String(), kind: t.Union([t.Literal('credit'), t.Literal('debit')]), amount_cents: t.Number(), balance_after_cents: t.Number(),
  reason: t.String(), ref_type: t.Nullable(t.String()), ref_id: t.Nullable(t.String()), note: t.Nullable(t.String()), created_at: t.String(),
})
const Wallet = t.Object({ balance_cents: t.Number(), billing_enforced: t.Boolean(), entries: t.Array(Entry) })

export const walletPlugin = (k: Kernel) =>
  new Elysia({ name: 'wallet', seed: k.seed, prefix: '/api/wallet', detail: { tags: ['Wallet'] } })
    .use(authGuard(k))
    .get('', ({ principal, query }) => wallet.summary(k, principal.userId, query.limit ?? 50), {
      auth: 'wallet.read',
      query: t.Object({ limit: t.Optional(t.Integer({ minimum: 1, maximum: 500, default: 50 })) }),
      response: Wallet,
      detail: { summary: 'Balance and recent ledger entries' },
    })
    .get('/invoices', ({ principal }) => ({ invoices: listInvoices(k, principal.userId) }), {
      auth: 'wallet.read',
      response: t.Object({ invoices: t.Array(t.Object({
        id: t.String(), user_id: t.String(), period: t.String(), total_cents: t.Number(),
        lines: t.Array(t.Object({ reason: t.String(), count: t.Integer(), amount_cents: t.Number() })), created_at: t.String(),
      })) }),
      detail: { summary: 'Your monthly invoices (from the wallet ledger\'s debits), newest first' },
    })
    .post('/credit', ({ principal, body }) => {
      wallet.requireUser(k, body.user_id)
      const after = k.db.transaction(() => wallet.credit(k, body.user_id, wallet.fromCents(body.amount_cents), body.note ?? null, principal.userId))()
      return { user_id: body.user_id, balance_cents: wallet.toCents(after) }
    }, {
      auth: { admin: true },
      body: t.Object({ user_id: t.String({ minLength: 1 }), amount_cents: t.Number({ exclusiveMinimum: 0, maximum: 100_000_000 }), note: t.Optional(t.String({ maxLength: 500 })) }),
      response: t.Object({ user_id: t.String(), balance_cents: t.Number() }),
      detail: { summary: 'Credit a user\'s wallet (admins)' },
    })
