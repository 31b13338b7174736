import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { jwt } from '@elysiajs/jwt'
import { authGuard, JWT_TTL, JWT_TTL_SECONDS } from '../../src/http/guard'
import { clientIp } from '../../src/http/client-ip'
import { enforceRate } from '../../src/http/rate-limit'
import { iso } from '../../src/clock'
import * as auth from './service'
import { AdminUserPatch, Credentials, LoginBody, LoginResponse, User, UserEnvelope } from './model'


/** The session cookie (set directly: Elysia's cookie jar depends on source inference that minification defeats). */
function sessionCookieHeader(k: Kernel, request: Request, value: string, expires: Date | null) {
  const secure = new URL(request.url).protocol === 'https:' || !!k.config.publicUrl?.startsWith('https:') || (k.config.trustProxy && request.headers.get('x-forwarded-proto') === 'https')
  const life = expires ? `Expires=${expires.toUTCString()}` : 'Max-Age=0'
  return `${k.sessions.sessionCookieName}=${value}; Path=/; ${life}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`
}

export const authPlugin = (k: Kernel) =>
  new Elysia({ name: 'auth', seed: k.seed, prefix: '/api', detail: { tags: ['Auth'] } })
    .use(authGuard(k))
    // Only login signs tokens: the signer is set up here, not in every domain's guard.
    .use(jwt({ name: 'jwt', secret: k.jwtSecret, exp: JWT_TTL, alg: 'HS256' }))
    .post('/auth/register', async ({ body, maybePrincipal, set, request, server }) => {
      enforceRate(k.limiter, set, `register:${clientIp(request, server, k.config.trustProxy)}`, 20)
      set.status = 201
      return { user: await auth.register(k, body, maybePrincipal) }
    }, {
      optionalAuth: true,
      body: t.Object({ ...Credentials.properties, admin: t.Optional(t.Boolean({ description: 'Create an admin (admins only)' })) }),
      response: { 201: UserEnvelope },
      detail: { summary: 'Register', description: 'The first user becomes admin. Later registration needs AGENTBASE_OPEN_REGISTRATION or an admin caller.' },
    })
    .post('/auth/login', async ({ body, jwt, set, request, server }) => {
      const { user, session } = await auth.login(k, body, clientIp(request, server, k.config.trustProxy))
      set.headers['set-cookie'] = sessionCookieHeader(k, request, session.id, session.expiresAt)
      const exp = Math.floor(k.clock.now() / 1000) + JWT_TTL_SECONDS
      const token = await jwt.sign({ sub: user.id, sid: session.id, exp })
      return { token, expires_at: iso(exp * 1000), user }
    }, {
      body: LoginBody,
      response: LoginResponse,
      detail: { summary: 'Log in', description: 'Returns a JWT and sets the session cookie. Failed logins are throttled per IP and per email.' },
    })
    .post('/auth/logout', async ({ principal, set, request }) => {
      if (principal.sessionId) await auth.logout(k, principal.sessionId)
      set.headers['set-cookie'] = sessionCookieHeader(k, request, '', null)
      return { logged_out: true }
    }, { auth: { session: true }, response: t.Object({ logged_out: t.Boolean() }), detail: { summary: 'Log out: ends the cookie session and the JWT at once' } })
    .get('/auth/me', ({ principal }) => ({
      user: auth.me(k, principal.userId),
      auth: { via: principal.via, token_type: principal.tokenType ?? null, scopes: principal.scopes, workspace_id: principal.workspaceId },
    }), {
      auth: true,
      response: t.Object({ user: User, auth: t.Object({ via: t.String(), token_type: t.Nullable(t.String()), scopes: t.Nullable(t.Array(t.String())), workspace_id: t.Nullable(t.String()) }) }),
      detail: { summary: 'The current user and how they authenticated' },
    })
    .get('/auth/session', ({ maybePrincipal }) => auth.sessionState(k, maybePrincipal), {
      optionalAuth: true,
      response: t.Object({
        user: t.Nullable(User),
        setup_required: t.Boolean({ description: 'No user exists yet: the next registration creates the admin' }),
        open_registration: t.Boolean(),
      }),
      detail: { summary: 'Who is signed in (or null) and whether the instance still needs its first admin', description: 'Always 200, so a browser can ask before signing in (the console uses it on start).' },
    })
    .get('/admin/users', () => ({ users: auth.listUsers(k) }), {
      auth: { admin: true },
      response: t.Object({ users: t.Array(User) }),
      detail: { tags: ['Admin'], summary: 'List users (admins)' },
    })
    .patch('/admin/users/:id', async ({ principal, params, body }) => ({ user: await auth.adminUpdateUser(k, principal, params.id, body) }), {
      auth: { admin: true },
      body: AdminUserPatch,
      response: UserEnvelope,
      detail: { tags: ['Admin'], summary: 'Disable/enable a user, change role, set monthly token quota (admins)' },
    })
