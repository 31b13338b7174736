import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import { nowIso } from '../../src/clock'
import { platformFetch, type PlatformResponse } from '../../src/http/platform'
import type { Principal } from '../../src/auth/principal'
import { withConfigs } from '../connections/service'
import { DebugSettings, TokenTest } from './model'

/** The reference's two WhatsApp diagnostics (/api/mcp/whatsapp/...), over the caller's WhatsApp connections. */

const TIMEOUT_MS = 10_000

/** "EAAG…wxyz (212 chars)": enough to tell tokens apart, never enough to use one. */
export function mask(secret: unknown): string | null {
  if (typeof secret !== 'string' || !secret) return null
  if (secret.length < 16) return `****(${secret.length} chars)`
  return `${secret.slice(0, 4)}…${secret.slice(-4)} (${secret.length} chars)`
}

async function checkToken(k: Kernel, config: Record<string, any>) {
  const base = k.config.platformApis.whatsapp
  const url = `${base}/${encodeURIComponent(String(config.phone_number_id ?? ''))}?fields=id,display_phone_number,verified_name,quality_rating`
  let res: PlatformResponse
  try {
    res = await platformFetch('WhatsApp', url, { headers: { authorization: `Bearer ${config.access_token ?? ''}` } }, { timeoutMs: TIMEOUT_MS, userAgent: `agentbase/${k.version}` })
  } catch (err) {
    return { valid: false, status_code: null, phone_number: null, error: `Could not reach the WhatsApp API: ${(err as Error).message}`, error_code: null }
  }
  const json = res.json
  if (res.ok) {
    return { valid: true, status_code: res.status, phone_number: { id: json?.id ?? null, display_phone_number: json?.display_phone_number ?? null, verified_name: json?.verified_name ?? null, quality_rating: json?.quality_rating ?? null }, error: null, error_code: null }
  }
  const e = json?.error
  const expired = res.status === 401 || e?.code === 190
  return {
    valid: false, status_code: res.status, phone_number: null, error: String(e?.message ?? `HTTP ${res.status}`).slice(0, 300), error_code: e?.code ?? null,
    hint: expired ? 'The access token is invalid or expired: create a new system user token in Meta Business settings and update the connection.' : 'Check phone_number_id (WhatsApp > API Setup shows it) and the token\'s whatsapp_business_messaging permission.',
  }
}

export async function testToken(k: Kernel, who: Principal, connectionId?: string) {
  const conns = withConfigs(k, who, 'whatsapp', connectionId)
  const results = await Promise.all(conns.map(async (c) => ({ connection_id: c.id, name: c.name, phone_number_id: c.config.phone_number_id ?? null, ...(await checkToken(k, c.config)), checked_at: nowIso(k.clock) })))
  return {
    api_url: k.config.platformApis.whatsapp, count: results.length, all_valid: results.length > 0 && results.every((r) => r.valid), results,
    ...(results.length ? {} : { message: 'No WhatsApp connection: add one with POST /api/connections { platform: "whatsapp", config: { access_token, phone_number_id } }' }),
  }
}

export function debugSettings(k: Kernel, who: Principal, connectionId?: string) {
  const conns = withConfigs(k, who, 'whatsapp', connectionId)
  return {
    api_url: k.config.platformApis.whatsapp,
    api_url_source: k.config.platformApis.whatsapp === 'https://graph.facebook.com/v21.0' ? 'default' : 'WHATSAPP_API_URL',
    count: conns.length,
    connections: conns.map((c) => ({
      id: c.id, name: c.name, status: c.status, error_message: c.error_message, account: c.account, last_tested_at: c.last_tested_at,
      settings: Object.fromEntries(Object.entries(c.config).map(([key, v]) => [key, key === 'access_token' || /secret|token|key|password/i.test(key) ? mask(v) : v])),
      has_access_token: typeof c.config.access_token === 'string' && c.config.access_token.length > 0,
    })),
  }
}

const Query = t.Object({ connection_id: t.Optional(t.String({ maxLength: 100 })) })

export const whatsappDiagnostics = (k: Kernel) =>
  new Elysia({ name: 'chat.whatsapp-diagnostics', seed: k.seed, prefix: '/api/mcp/whatsapp', detail: { tags: ['Tools (MCP)'] } })
    .use(authGuard(k))
    .get('/test-token', ({ principal, query }) => testToken(k, principal, query.connection_id), {
      auth: 'connections.read', query: Query, response: TokenTest,
      detail: { summary: "Test your WhatsApp connections' access tokens against the WhatsApp Cloud API (or one: ?connection_id=)" },
    })
    .get('/debug', ({ principal, query }) => debugSettings(k, principal, query.connection_id), {
      auth: 'connections.read', query: Query, response: DebugSettings, detail: { summary: 'Every setting of your WhatsApp connections, secrets masked' },
    })
