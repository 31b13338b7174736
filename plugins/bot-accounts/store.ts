import type { Db } from '../../src/db/open'
import { iso } from '../../src/clock'
import type { BotAccountView } from './model'

export interface BotAccountRow {
  id: string; owner_id: string; name: string; slug: string; description: string | null; avatar_url: string | null
  scopes: string; is_active: number; rate_limit_rpm: number; key_hash: string; key_prefix: string; created_at: string; updated_at: string
  /** Set when minted within a workspace (e.g. by a workspace token): the key reaches only that workspace. */
  workspace_id: string | null
}

export const toView = (r: BotAccountRow): BotAccountView => ({
  id: r.id, name: r.name, slug: r.slug, description: r.description, avatarUrl: r.avatar_url, scopes: JSON.parse(r.scopes),
  isActive: r.is_active === 1, rateLimitRpm: r.rate_limit_rpm, keyPrefix: r.key_prefix, workspaceId: r.workspace_id ?? null,
  createdAt: r.created_at, updatedAt: r.updated_at,
})

export const getById = (db: Db, id: string) => db.query<BotAccountRow, [string]>('SELECT * FROM bot_accounts WHERE id = ?').get(id)
export const slugTaken = (db: Db, slug: string) => !!db.query('SELECT 1 FROM bot_accounts WHERE slug = ?').get(slug)

/** ownerId null: every owner; workspaceId set: only the accounts bound to that workspace. */
export const listOwned = (db: Db, ownerId: string | null, workspaceId: string | null = null) =>
  db.query<BotAccountRow, [string | null, string | null]>(
    'SELECT * FROM bot_accounts WHERE (?1 IS NULL OR owner_id = ?1) AND (?2 IS NULL OR workspace_id = ?2) ORDER BY created_at DESC, id',
  ).all(ownerId, workspaceId)

export function insert(db: Db, r: BotAccountRow) {
  db.query(`INSERT INTO bot_accounts (id, owner_id, workspace_id, name, slug, description, avatar_url, scopes, is_active, rate_limit_rpm, key_hash, key_prefix, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .run(r.id, r.owner_id, r.workspace_id, r.name, r.slug, r.description, r.avatar_url, r.scopes, r.is_active, r.rate_limit_rpm, r.key_hash, r.key_prefix, r.created_at, r.updated_at)
}

export function update(db: Db, r: BotAccountRow) {
  db.query(`UPDATE bot_accounts SET name = ?, description = ?, avatar_url = ?, scopes = ?, is_active = ?, rate_limit_rpm = ?, updated_at = ? WHERE id = ?`)
    .run(r.name, r.description, r.avatar_url, r.scopes, r.is_active, r.rate_limit_rpm, r.updated_at, r.id)
}

export const setKey = (db: Db, id: string, hash: string, prefix: string, nowMs: number) =>
  db.query('UPDATE bot_accounts SET key_hash = ?, key_prefix = ?, updated_at = ? WHERE id = ?').run(hash, prefix, iso(nowMs), id)

/** Deleting cascades to the account's webhooks (and their deliveries) and memory. */
export const remove = (db: Db, id: string) => db.query('DELETE FROM bot_accounts WHERE id = ?').run(id)

export interface KeyRow {
  id: string; owner_id: string; workspace_id: string | null; scopes: string; is_active: number; rate_limit_rpm: number; name: string
  email: string; disabled_at: string | null
}
export const byKeyHash = (db: Db, hash: string) =>
  db.query<KeyRow, [string]>(
    `SELECT b.id, b.owner_id, b.workspace_id, b.scopes, b.is_active, b.rate_limit_rpm, b.name, u.email, u.disabled_at
     FROM bot_accounts b JOIN users u ON u.id = b.owner_id WHERE b.key_hash = ?`,
  ).get(hash)

// Memory
export interface MemoryRow { key: string; value: string; updated_at: string }
export const memoryGet = (db: Db, botId: string, key: string) =>
  db.query<MemoryRow, [string, string]>('SELECT key, value, updated_at FROM bot_memory WHERE bot_account_id = ? AND key = ?').get(botId, key)
export const memoryList = (db: Db, botId: string, prefix: string, limit: number) =>
  db.query<MemoryRow, [string, string, number]>(
    'SELECT key, value, updated_at FROM bot_memory WHERE bot_account_id = ?1 AND key >= ?2 AND substr(key, 1, length(?2)) = ?2 ORDER BY key LIMIT ?3',
  ).all(botId, prefix, limit)
export const memoryCount = (db: Db, botId: string) =>
  db.query<{ n: number }, [string]>('SELECT count(*) AS n FROM bot_memory WHERE bot_account_id = ?').get(botId)!.n
export const memoryPut = (db: Db, botId: string, key: string, value: string, at: string) =>
  db.query('INSERT INTO bot_memory (bot_account_id, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(bot_account_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
    .run(botId, key, value, at)
export const memoryDelete = (db: Db, botId: string, key: string) =>
  db.query('DELETE FROM bot_memory WHERE bot_account_id = ? AND key = ?').run(botId, key).changes
