import type { Db } from '../../src/db/open'
import { perDb } from '../../src/db/per-db'

/** SQL for `api_tokens` as the tokens domain manages them (the auth guard's lookups live in src/auth). */
export interface TokenRow {
  id: string; user_id: string; name: string; type: 'personal' | 'workspace' | 'admin'; workspace_id: string | null; scopes: string | null; rpm: number
  prefix: string; expires_at: string | null; last_used_at: string | null; revoked_at: string | null; created_at: string
}

const tokenStoreOf = (db: Db) => ({
  insert: (row: TokenRow, hash: string) => db.query(`INSERT INTO api_tokens (id, user_id, name, type, workspace_id, scopes, rpm, prefix, hash, expires_at, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(row.id, row.user_id, row.name, row.type, row.workspace_id, row.scopes, row.rpm, row.prefix, hash, row.expires_at, row.created_at),
  /** The user's tokens not revoked, newest first. */
  active: (userId: string) => db.query<TokenRow, [string]>('SELECT * FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC').all(userId),
  /** 1 when revoked now, 0 when missing, not the user's, or already revoked. */
  revoke: (id: string, userId: string, at: string) =>
    db.query('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL').run(at, id, userId).changes,
})

export const tokenStore = perDb(tokenStoreOf)
