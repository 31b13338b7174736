import type { Kernel } from '../../src/kernel'
import { ApiError, badRequest, conflict, forbidden, notFound } from '../../src/http/errors'
import { canAccess, listScope, mintableScopes, type Principal } from '../../src/auth/principal'
import * as workspaces from '../workspaces/service'
import { unknownScopes, type Scope } from '../../src/auth/scopes'
import { hashKey, mintKey } from '../../src/auth/keys'
import { newId } from '../../src/db/ids'
import { nowIso } from '../../src/clock'
import { deliveries } from '../../src/events/delivery'
import * as store from './store'
import { MAX_RPM_ADMIN, MAX_RPM_USER, type BotAccountView, type CreateBotAccountInput, type UpdateBotAccountInput } from './model'

export const DEFAULT_RPM = 60

/**
 * Resolves a `bot_` key into a principal that acts for the account's owner, limited to the account's
 * scopes and its own rate bucket. Unknown keys: null (the guard answers 401 "Invalid API key").
 */
export function resolveBotKey(k: Kernel, key: string): Principal | null {
  const row = store.byKeyHash(k.db, hashKey(key))
  if (!row) return null
  if (!row.is_active) throw new ApiError(401, `Bot account "${row.name}" is inactive; its owner can re-activate it with PATCH /api/bot/manage/${row.id} {"isActive": true}`, 'bot_inactive')
  if (row.disabled_at) throw new ApiError(401, 'The user account that owns this bot is disabled', 'account_disabled')
  return {
    userId: row.owner_id,
    email: row.email,
    role: 'user',
    via: 'bot_account',
    botAccountId: row.id,
    scopes: JSON.parse(row.scopes) as Scope[],
    workspaceId: row.workspace_id, // a bound account acts only inside its workspace
    instanceWide: false,
    rpm: row.rate_limit_rpm,
    rateKey: `bacc:${row.id}`,
  }
}

/** Bot accounts are managed by people (a login session or a personal token), never by a bot key. */
export function requireUser(who: Principal) {
  if (who.via === 'bot_account') throw forbidden('Bot account keys cannot manage bot accounts or their webhooks; use a login session or a personal API token')
}

/** The account if `who` may manage it; 404 otherwise (others' accounts look missing). */
export function requireOwned(k: Kernel, who: Principal, botId: string): store.BotAccountRow {
  requireUser(who)
  const row = store.getById(k.db, botId)
  if (!row || !canAccess(who, row.owner_id, row.workspace_id)) throw notFound('Bot account')
  return row
}

function checkScopes(scopes: string[]): string {
  const bad = unknownScopes(scopes)
  if (bad) throw badRequest(bad, { scopes: 'contains unknown scopes' })
  return JSON.stringify([...new Set(scopes)])
}

/** Known scopes (400 otherwise) that `who` holds itself (403 otherwise), as stored JSON; undefined: the narrowed default. */
function grantScopes(who: Principal, requested: string[] | undefined): string {
  if (requested) checkScopes(requested)
  return checkScopes(mintableScopes(who, requested))
}

function checkAvatar(url: string | null | undefined): string | null {
  if (url === undefined || url === null || url === '') return null
  let u: URL
  try { u = new URL(url) } catch { throw badRequest('avatarUrl must be a valid http(s) URL', { avatarUrl: 'must be a valid URL' }) }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw badRequest('avatarUrl must use http or https', { avatarUrl: 'must use http or https' })
  return url
}

function checkRpm(who: Principal, rpm: number): number {
  if (rpm > MAX_RPM_USER && who.role !== 'admin') throw badRequest(`rateLimitRpm may not exceed ${MAX_RPM_USER} (admins may set up to ${MAX_RPM_ADMIN})`, { rateLimitRpm: `must be at most ${MAX_RPM_USER}` })
  return rpm
}

const isUniqueViolation = (err: unknown) => /UNIQUE constraint failed: bot_accounts\.slug/.test((err as Error)?.message ?? '')

export function create(k: Kernel, who: Principal, input: CreateBotAccountInput): { bot: BotAccountView; apiKey: string } {
  requireUser(who)
  // Never wider than the creator: its workspace binding is inherited, its scopes inherited or narrowed.
  const scopes = grantScopes(who, input.scopes)
  const workspaceId = input.workspaceId ? workspaces.requireOwned(k, who, input.workspaceId).id : who.workspaceId
  const avatar = checkAvatar(input.avatarUrl)
  const rpm = checkRpm(who, input.rateLimitRpm ?? DEFAULT_RPM)
  if (store.slugTaken(k.db, input.slug)) throw conflict('Slug already taken')
  const { key, hash, display } = mintKey('bot_')
  const now = nowIso(k.clock)
  const row: store.BotAccountRow = {
    id: newId('bacc'), owner_id: who.userId, workspace_id: workspaceId, name: input.name, slug: input.slug, description: input.description ?? null, avatar_url: avatar,
    scopes, is_active: 1, rate_limit_rpm: rpm, key_hash: hash, key_prefix: display, created_at: now, updated_at: now,
  }
  try {
    store.insert(k.db, row)
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('Slug already taken')
    throw err
  }
  return { bot: store.toView(row), apiKey: key }
}

export function list(k: Kernel, who: Principal): BotAccountView[] {
  requireUser(who)
  const { ownerId, workspaceId } = listScope(who)
  return store.listOwned(k.db, ownerId, workspaceId).map(store.toView)
}

export const get = (k: Kernel, who: Principal, botId: string) => store.toView(requireOwned(k, who, botId))

export function update(k: Kernel, who: Principal, botId: string, patch: UpdateBotAccountInput): BotAccountView {
  const row = requireOwned(k, who, botId)
  const next: store.BotAccountRow = {
    ...row,
    name: patch.name ?? row.name,
    description: patch.description !== undefined ? patch.description : row.description,
    avatar_url: patch.avatarUrl !== undefined ? checkAvatar(patch.avatarUrl) : row.avatar_url,
    scopes: patch.scopes ? grantScopes(who, patch.scopes) : row.scopes,
    is_active: patch.isActive === undefined ? row.is_active : patch.isActive ? 1 : 0,
    rate_limit_rpm: patch.rateLimitRpm !== undefined ? checkRpm(who, patch.rateLimitRpm) : row.rate_limit_rpm,
    updated_at: nowIso(k.clock),
  }
  store.update(k.db, next)
  if (next.rate_limit_rpm !== row.rate_limit_rpm) k.limiter.reset(`bacc:${row.id}`)
  if (next.is_active !== row.is_active) deliveries(k).wake() // an inactive account's webhooks pause (and resume) at once
  return store.toView(next)
}

export function remove(k: Kernel, who: Principal, botId: string) {
  const row = requireOwned(k, who, botId)
  store.remove(k.db, row.id)
  k.limiter.reset(`bacc:${row.id}`)
  deliveries(k).wake()
}

/** A new key; the old one stops working at once (lookups are by hash, never cached). */
export function regenerateKey(k: Kernel, who: Principal, botId: string): string {
  const row = requireOwned(k, who, botId)
  const { key, hash, display } = mintKey('bot_')
  store.setKey(k.db, row.id, hash, display, k.clock.now())
  return key
}
