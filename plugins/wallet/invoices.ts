import type { Kernel } from '../../src/kernel'
import { badRequest } from '../../src/http/errors'
import { iso } from '../../src/clock'
import { newId } from '../../src/db/ids'
import { toCents } from './service'
import { onBoot, scheduler } from '../../src/scheduler/index'

/**
 * Monthly invoices from the wallet ledger: one per user and calendar month (UTC) with debits, its lines the
 * debits summed per reason. `createMonthlyInvoices` is idempotent (one invoice per user and period) and is
 * what the scheduler's monthly housekeeping job calls; each new invoice publishes `billing.invoice.created`
 * in the transaction that stores it.
 */

export interface InvoiceLine { reason: string; count: number; amount_cents: number }
export interface InvoiceView { id: string; user_id: string; period: string; total_cents: number; lines: InvoiceLine[]; created_at: string }

interface InvoiceRow { id: string; user_id: string; period: string; total_micro: number; lines: string; created_at: string }

const toView = (r: InvoiceRow): InvoiceView => ({
  id: r.id, user_id: r.user_id, period: r.period, total_cents: toCents(r.total_micro),
  lines: (JSON.parse(r.lines) as Array<{ reason: string; count: number; amount_micro: number }>).map((l) => ({ reason: l.reason, count: l.count, amount_cents: toCents(l.amount_micro) })),
  created_at: r.created_at,
})

/** `2026-03` -> [2026-03-01T00:00:00Z, 2026-04-01T00:00:00Z). */
function monthRange(period: string): [string, string] {
  const m = /^(\d{4})-(\d{2})$/.exec(period)
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw badRequest('period must be YYYY-MM', { period: 'must be YYYY-MM' })
  const start = Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)
  const end = Date.UTC(Number(m[1]), Number(m[2]), 1)
  return [iso(start), iso(end)]
}

/** The calendar month before the clock's current one, e.g. `2026-02` during March 2026. */
export function previousPeriod(nowMs: number): string {
  const d = new Date(nowMs)
  const prev = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1))
  return `${prev.getUTCFullYear()}-${String(prev.getUTCMonth() + 1).padStart(2, '0')}`
}

/** Creates the missing invoices of `period` (default: the previous month); returns the ones created now. */
export function createMonthlyInvoices(k: Kernel, period = previousPeriod(k.clock.now())): InvoiceView[] {
  const [from, to] = monthRange(period)
  const sums = k.db.query<{ user_id: string; reason: string; n: number; micro: number }, [string, string]>(
    `SELECT user_id, reason, count(*) AS n, sum(amount_micro) AS micro FROM wallet_ledger
     WHERE kind = 'debit' AND created_at >= ? AND created_at < ? GROUP BY user_id, reason ORDER BY user_id, micro DESC`,
  ).all(from, to)
  const byUser = new Map<string, Array<{ reason: string; count: number; amount_micro: number }>>()
  for (const s of sums) {
    const lines = byUser.get(s.user_id) ?? []
    lines.push({ reason: s.reason, count: s.n, amount_micro: s.micro })
    byUser.set(s.user_id, lines)
  }
  const created: InvoiceView[] = []
  const now = iso(k.clock.now())
  const insert = k.db.query('INSERT OR IGNORE INTO invoices (id, user_id, period, total_micro, lines, created_at) VALUES (?, ?, ?, ?, ?, ?)')
  k.db.transaction(() => {
    for (const [userId, lines] of byUser) {
      const row: InvoiceRow = { id: newId('inv'), user_id: userId, period, total_micro: lines.reduce((n, l) => n + l.amount_micro, 0), lines: JSON.stringify(lines), created_at: now }
      if (!insert.run(row.id, row.user_id, row.period, row.total_micro, row.lines, row.created_at).changes) continue // already invoiced
      const view = toView(row)
      k.events.publish('billing.invoice.created', { invoice_id: view.id, user_id: userId, period, total_cents: view.total_cents, lines: view.lines }, { ownerId: userId })
      created.push(view)
    }
  })()
  return created
}

export const listInvoices = (k: Kernel, userId: string): InvoiceView[] =>
  k.db.query<InvoiceRow, [string]>('SELECT * FROM invoices WHERE user_id = ? ORDER BY period DESC').all(userId).map(toView)

/**
 * The monthly invoice run as a named system schedule (DESIGN §13): 00:05 UTC on the 1st, for the month that
 * just ended. Idempotent, so a catch-up after downtime or a second fire creates nothing twice.
 */
export function registerInvoiceSchedule(k: Kernel) {
  const s = scheduler(k)
  s.handle('billing.invoices', {
    async run() {
      try {
        const made = createMonthlyInvoices(k)
        return { ok: true, result: { invoices: made.length } }
      } catch (err) {
        return { ok: false, error: (err as Error).message }
      }
    },
  })
  onBoot(k, 'billing.invoices', () => {
    s.ensure({
      name: 'system:invoices', handler: 'billing.invoices', system: true,
      spec: {
        type: 'cron', intervalMs: null, cron: '5 0 1 * *', timezone: 'UTC', startAt: null, endAt: null, jitterMs: 0,
        overlap: 'skip', catchup: 'latest', catchupWindowMs: null, pauseAfterFailures: null,
      },
    })
  })
}
