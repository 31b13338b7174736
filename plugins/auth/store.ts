import type { Db } from '../../src/db/open'
import type { UserView } from './model'
import { perDb } from '../../src/db/per-db'

export interface UserRow {
  id: string; email: string; password_hash: string; role: 'admin' | 'user'; monthly_token_quota: number | null
  disabled_at: string | null; created_at: string; updated_at: string
}

export const toUserView = (r: UserRow): UserView => ({
  id: r.id, email: r.email, role: r.role, monthly_token_quota: r.monthly_token_quota, disabled: !!r.disabled_at, created_at: r.created_at,
})

/**
 * User views by id, kept briefly: `GET /api/auth/me` and friends are hot and users rarely change.
 * Every write goes through `update` below, which drops the entry; the lifetime only bounds edits made
 * outside this process.
 */
const VIEW_TTL_MS = 2000
const views = new WeakMap<Db, Map<string, { view: UserView; at: number }>>()
const viewCache = (db: Db) => {
  let m = views.get(db)
  if (!m) views.set(db, (m = new Map()))
  return m
}

const userStoreOf = (db: Db) => ({
  viewById: (id: string): UserView | null => {
    const cache = viewCache(db)
    const hit = cache.get(id)
    if (hit && performance.now() - hit.at < VIEW_TTL_MS) return hit.view
    const row = db.query<UserRow, [string]>('SELECT * FROM users WHERE id = ?').get(id)
    if (!row) { cache.delete(id); return null }
    if (cache.size >= 10_000) cache.clear()
    const view = toUserView(row)
    cache.set(id, { view, at: performance.now() })
    return view
  },
  count: () => db.query<{ n: number }, []>('SELECT count(*) AS n FROM users').get()!.n,
  byEmail: (email: string) => db.query<UserRow, [string]>('SELECT * FROM users WHERE email = ?').get(email),
  byId: (id: string) => db.query<UserRow, [string]>('SELECT * FROM users WHERE id = ?').get(id),
  list: () => db.query<UserRow, []>('SELECT * FROM users ORDER BY created_at').all(),
  insert: (r: UserRow) =>
    db.query('INSERT INTO users (id, email, password_hash, role, monthly_token_quota, disabled_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(r.id, r.email, r.password_hash, r.role, r.monthly_token_quota, r.disabled_at, r.created_at, r.updated_at),
  update: (id: string, f: Partial<Pick<UserRow, 'role' | 'disabled_at' | 'monthly_token_quota' | 'password_hash'>>, now: string) => {
    const cols = Object.keys(f) as (keyof typeof f)[]
    if (!cols.length) return
    db.query(`UPDATE users SET ${cols.map((c) => `${c} = ?`).join(', ')}, updated_at = ? WHERE id = ?`).run(...cols.map((c) => f[c] ?? null), now, id)
    viewCache(db).delete(id)
  },
})

export const userStore = perDb(userStoreOf)
