import { perKernel, type Kernel } from '../../src/kernel'
import { ApiError, conflict, forbidden, notFound } from '../../src/http/errors'
import { hashPassword, verifyPassword, dummyHash } from '../../src/auth/passwords'
import { newId } from '../../src/db/ids'
import { iso, nowIso } from '../../src/clock'
import type { Principal } from '../../src/auth/principal'
import { forgetTokens } from '../../src/auth/authenticate'
import { toUserView, userStore, type UserRow } from './store'
import { tx } from '../../src/db/open'

const normEmail = (e: string) => e.trim().toLowerCase()

/**
 * Creates a user. The first user becomes admin; later ones need open registration or an admin caller.
 * The slow hash runs first; "who is first" is decided and the row written in one transaction after it,
 * so concurrent first registrations cannot all see an empty table (exactly one becomes admin).
 */
export async function register(k: Kernel, input: { email: string; password: string; admin?: boolean }, caller: Principal | null, opts: { cli?: boolean } = {}) {
  const users = userStore(k.db)
  const byAdmin = caller?.role === 'admin'
  const email = normEmail(input.email)
  // Cheap early refusals (no hash spent on them); re-checked atomically below.
  allowed(k, users.count() === 0, byAdmin, input, opts)
  if (users.byEmail(email)) throw conflict('An account with this email already exists')
  const hash = await hashPassword(input.password, k.config.passwordMemoryKib)
  const now = nowIso(k.clock)
  return tx(k.db, () => {
    const first = users.count() === 0
    allowed(k, first, byAdmin, input, opts)
    const row: UserRow = {
      id: newId('usr'), email, password_hash: hash, role: first || input.admin ? 'admin' : 'user',
      monthly_token_quota: null, disabled_at: null, created_at: now, updated_at: now,
    }
    try {
      users.insert(row)
    } catch (err) {
      if (String(err).includes('UNIQUE')) throw conflict('An account with this email already exists')
      throw err
    }
    return toUserView(row)
  })
}

function allowed(k: Kernel, first: boolean, byAdmin: boolean, input: { admin?: boolean }, opts: { cli?: boolean }) {
  if (!first && !opts.cli && !byAdmin && !k.config.openRegistration) {
    throw forbidden('Registration is closed: ask an admin to create your account (or set AGENTBASE_OPEN_REGISTRATION=on)')
  }
  if (input.admin && !first && !opts.cli && !byAdmin) throw forbidden('Only admins can create admin users')
}

/** Failed logins allowed per window: few per email (guessing one account), more per IP (shared NATs). */
export const LOGIN_FAIL_LIMIT = { email: 5, ip: 20 } as const
export const LOGIN_FAIL_WINDOW_MS = 15 * 60 * 1000
const FAIL_WINDOW_MS = LOGIN_FAIL_WINDOW_MS
const limitOf = (key: string) => (key.startsWith('ip:') ? LOGIN_FAIL_LIMIT.ip : LOGIN_FAIL_LIMIT.email)

/** Failed-login counters per IP and per email; a burst of failures locks that key for the window. */
class LoginThrottle {
  private fails = new Map<string, number[]>()
  constructor(private k: Kernel) {}
  private recent(key: string) {
    const now = this.k.clock.now()
    const list = (this.fails.get(key) ?? []).filter((t) => now - t < FAIL_WINDOW_MS)
    if (list.length) this.fails.set(key, list)
    else this.fails.delete(key) // bounded memory under email spraying
    return list
  }
  check(keys: string[]) {
    for (const key of keys) {
      const list = this.recent(key)
      if (list.length >= limitOf(key)) {
        const retry = Math.ceil((list[0] + FAIL_WINDOW_MS - this.k.clock.now()) / 1000)
        throw new ApiError(429, `Too many failed logins; try again in ${retry} s`, 'login_throttled', undefined, { 'Retry-After': String(retry) })
      }
    }
  }
  fail(keys: string[]) {
    for (const key of keys) this.fails.set(key, [...this.recent(key), this.k.clock.now()])
  }
  clear(key: string) { this.fails.delete(key) }
}

const loginThrottle = perKernel((k) => new LoginThrottle(k))

export async function login(k: Kernel, input: { email: string; password: string }, ip: string) {
  const throttle = loginThrottle(k)
  const email = normEmail(input.email)
  const keys = [`ip:${ip}`, `email:${email}`]
  throttle.check(keys)
  const user = userStore(k.db).byEmail(email)
  const ok = user ? await verifyPassword(input.password, user.password_hash) : (await verifyPassword(input.password, await dummyHash(k.config.passwordMemoryKib)), false)
  if (!user || !ok) {
    throttle.fail(keys)
    throw new ApiError(401, 'Wrong email or password', 'invalid_credentials')
  }
  if (user.disabled_at) throw new ApiError(401, 'This account is disabled', 'account_disabled')
  throttle.clear(`email:${email}`)
  const session = await k.sessions.createSession(user.id, {})
  return { user: toUserView(user), session }
}

export async function logout(k: Kernel, sessionId: string) {
  await k.sessions.invalidateSession(sessionId)
}

export function me(k: Kernel, userId: string) {
  const u = userStore(k.db).viewById(userId)
  if (!u) throw notFound('User')
  return u
}

/** For GET /api/auth/session: the signed-in user, if any, and whether the first admin is still to be created. */
export function sessionState(k: Kernel, caller: Principal | null) {
  return {
    user: caller ? userStore(k.db).viewById(caller.userId) : null,
    setup_required: userStore(k.db).count() === 0,
    open_registration: k.config.openRegistration,
  }
}

export const listUsers = (k: Kernel) => userStore(k.db).list().map(toUserView)

/** Admin changes; disabling a user ends every session and token of theirs at once. */
export async function adminUpdateUser(k: Kernel, admin: Principal, id: string, patch: { disabled?: boolean; role?: 'admin' | 'user'; monthly_token_quota?: number | null }) {
  const users = userStore(k.db)
  const u = users.byId(id)
  if (!u) throw notFound('User')
  if (id === admin.userId && (patch.disabled || patch.role === 'user')) throw new ApiError(400, 'Admins cannot disable or demote themselves')
  const f: Parameters<typeof users.update>[1] = {}
  if (patch.disabled !== undefined) f.disabled_at = patch.disabled ? iso(k.clock.now()) : null
  if (patch.role !== undefined) f.role = patch.role
  if (patch.monthly_token_quota !== undefined) f.monthly_token_quota = patch.monthly_token_quota
  users.update(id, f, nowIso(k.clock))
  forgetTokens(k, { userId: id }) // role and disabled take effect on the next request
  if (patch.disabled) await k.sessions.invalidateUserSessions(id)
  return toUserView(users.byId(id)!)
}

/** The owner's monthly token quota for plan_quota bots (null = unlimited). */
export const monthlyTokenQuota = (k: Kernel, userId: string): number | null => userStore(k.db).byId(userId)?.monthly_token_quota ?? null

export const userExists = (k: Kernel, userId: string) => !!userStore(k.db).byId(userId)
