import { Lucia, TimeSpan } from 'lucia'
import { BunSQLiteAdapter } from '@lucia-auth/adapter-sqlite'
import type { Db } from '../db/open'

export interface UserAttributes { email: string; role: 'admin' | 'user'; disabled_at: string | null }

export function createLucia(db: Db) {
  return new Lucia(new BunSQLiteAdapter(db, { user: 'users', session: 'sessions' }), {
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
