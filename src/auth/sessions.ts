import { Lucia, TimeSpan, type Adapter, type DatabaseSession, type DatabaseUser } from 'lucia'
import type { Db } from '../db/open'

export interface UserAttributes { email: string; role: 'admin' | 'user'; disabled_at: string | null }

interface SessionRow { id: string; user_id: string; expires_at: number }
interface UserRow extends UserAttributes { id: string }

/**
 * Lucia's storage over our `sessions` and `users` tables. Our own rather than @lucia-auth/adapter-sqlite:
 * that one prepares every statement on every call and joins, which made session validation (every
 * JWT and cookie request) ~20x slower than two cached primary-key reads (bench/auth.ts).
 */
class SessionAdapter implements Adapter {
  constructor(private db: Db) {}
  private session = (r: SessionRow): DatabaseSession => ({ id: r.id, userId: r.user_id, expiresAt: new Date(r.expires_at * 1000), attributes: {} })

  async getSessionAndUser(sessionId: string): Promise<[DatabaseSession | null, DatabaseUser | null]> {
    const s = this.db.query<SessionRow, [string]>('SELECT id, user_id, expires_at FROM sessions WHERE id = ?').get(sessionId)
    if (!s) return [null, null]
    const u = this.db.query<UserRow, [string]>('SELECT id, email, role, disabled_at FROM users WHERE id = ?').get(s.user_id)
    if (!u) return [null, null]
    return [this.session(s), { id: u.id, attributes: { email: u.email, role: u.role, disabled_at: u.disabled_at } }]
  }
  async getUserSessions(userId: string) {
    return this.db.query<SessionRow, [string]>('SELECT id, user_id, expires_at FROM sessions WHERE user_id = ?').all(userId).map(this.session)
  }
  async setSession(s: DatabaseSession) {
    this.db.query('INSERT INTO sessions (id, user_id, expires_at) VALUES (?, ?, ?)').run(s.id, s.userId, Math.floor(s.expiresAt.getTime() / 1000))
  }
  async updateSessionExpiration(sessionId: string, expiresAt: Date) {
    this.db.query('UPDATE sessions SET expires_at = ? WHERE id = ?').run(Math.floor(expiresAt.getTime() / 1000), sessionId)
  }
  async deleteSession(sessionId: string) { this.db.query('DELETE FROM sessions WHERE id = ?').run(sessionId) }
  async deleteUserSessions(userId: string) { this.db.query('DELETE FROM sessions WHERE user_id = ?').run(userId) }
  async deleteExpiredSessions() { this.db.query('DELETE FROM sessions WHERE expires_at <= ?').run(Math.floor(Date.now() / 1000)) }
}

export function createLucia(db: Db) {
  return new Lucia(new SessionAdapter(db), {
    sessionExpiresIn: new TimeSpan(30, 'd'),
    sessionCookie: { name: 'agentbase_session', expires: true, attributes: { sameSite: 'lax', secure: false } },
    getUserAttributes: (a) => ({ email: a.email, role: a.role, disabledAt: a.disabled_at }),
  })
}

export type AuthSessions = ReturnType<typeof createLucia>

declare module 'lucia' {
  interface Register {
    Lucia: AuthSessions
    DatabaseUserAttributes: UserAttributes
  }
}
