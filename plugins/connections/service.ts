import type { Kernel } from '../../src/kernel'
import { ApiError, badRequest, notFound } from '../../src/http/errors'
import { canAccess, listScope, type Principal } from '../../src/auth/principal'
import { newId } from '../../src/db/ids'
import { nowIso } from '../../src/clock'
import { mcpPool, type McpTool } from '../../src/tools/mcp-pool'
import { schemaError } from '../../src/tools/schema'
import { toolSlug } from '../../src/tools/workspace-tools'
import { PLATFORMS, platformById } from './platforms/index'
import type { Config, Platform, PlatformContext } from './platforms/types'
import { connectionStore, type ConnectionRow, type ConnectionStatus } from './store'
import type { ConnectionView, CreateConnectionInput, UpdateConnectionInput } from './model'

const AUTH_TIMEOUT_MS = 20_000

export function requirePlatform(id: string): Platform {
  const p = platformById.get(id)
  if (!p) throw badRequest(`Unknown platform "${id}"; available: ${PLATFORMS.map((x) => x.id).join(', ')}`, { platform: 'unknown platform' })
  return p
}

/** 400 naming the first bad config field (`config.bot_token is required`). */
function checkConfig(p: Platform, config: Config) {
  const err = schemaError(p.configSchema, config)
  if (!err) return
  const path = err.path ? `config.${err.path}` : 'config'
  throw new ApiError(400, `Invalid ${p.name} config: ${path} ${err.problem.replace('is not an allowed argument', 'is not a known field')}`, 'invalid_config', { [path]: err.problem })
}

/** The secret strings in a config, so the audit log and errors can redact them. */
export function configSecrets(p: Platform, config: Config | null): string[] {
  if (!config) return []
  const out: string[] = []
  for (const f of p.secretFields) {
    const v = config[f]
    if (typeof v === 'string') out.push(v, ...v.split(/\s+/).filter((x) => x.length >= 8))
    else if (v && typeof v === 'object') for (const x of Object.values(v)) if (typeof x === 'string') out.push(x, ...x.split(/\s+/).filter((y) => y.length >= 8))
  }
  return out
}

export interface AuthOutcome { status: ConnectionStatus; error_message: string | null; account: Record<string, unknown> | null; tools: McpTool[] }

/**
 * Proves the credentials with one real platform call. Bad input (an invalid config, a URL the outbound
 * guard refuses) is a 400; a refusal or an unreachable platform is status `error` with its message.
 */
export async function authenticate(k: Kernel, p: Platform, config: Config, connection?: PlatformContext['connection']): Promise<AuthOutcome> {
  checkConfig(p, config)
  const ctx: PlatformContext = { k, config, signal: AbortSignal.timeout(AUTH_TIMEOUT_MS), connection }
  await p.check?.(ctx)
  try {
    const r = await p.authenticate(ctx)
    return { status: 'active', error_message: null, account: r.account, tools: r.tools ?? [] }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err)
    let clean = msg
    for (const s of configSecrets(p, config)) if (s.length >= 4) clean = clean.split(s).join('[redacted]')
    return { status: 'error', error_message: clean.slice(0, 500), account: null, tools: [] }
  }
}

/** Tool-name prefix: the first active connection of a platform gets `slack_...`, later ones `slack_<name>_...`; http/mcp use their name. */
export function toolPrefix(r: ConnectionRow, earlierActive: boolean) {
  if (r.platform === 'http' || r.platform === 'mcp') return r.slug
  return earlierActive ? `${r.platform}_${r.slug}` : r.platform
}

export const openConfig = (k: Kernel, r: ConnectionRow) => k.secrets.openJson<Config>(r.config_sealed) ?? {}

/** Exposed tool names per connection, in the same way the catalog names them. */
export function toolNames(k: Kernel, rows: ConnectionRow[]): Map<string, string[]> {
  const seen = new Set<string>()
  const out = new Map<string, string[]>()
  for (const r of rows) {
    const p = platformById.get(r.platform)
    if (!p) continue
    const prefix = toolPrefix(r, seen.has(r.platform))
    if (r.status === 'active') seen.add(r.platform)
    const config = r.platform === 'http' ? openConfig(k, r) : null
    out.set(r.id, p.tools(config, JSON.parse(r.tools)).map((t) => `${prefix}_${t.op}`))
  }
  return out
}

function toView(r: ConnectionRow, tools: string[]): ConnectionView {
  const fields = JSON.parse(r.config_fields) as string[]
  return {
    id: r.id, platform: r.platform, name: r.name, status: r.status, error_message: r.error_message, account: r.account ? JSON.parse(r.account) : null,
    tools, has_config: fields.length > 0, config_fields: fields, last_tested_at: r.last_tested_at, created_at: r.created_at, updated_at: r.updated_at,
  }
}

function viewOf(k: Kernel, r: ConnectionRow): ConnectionView {
  const all = connectionStore(k.db).list(r.owner_id)
  return toView(r, toolNames(k, all).get(r.id) ?? [])
}

function requireOwned(k: Kernel, who: Principal, id: string): ConnectionRow {
  const r = connectionStore(k.db).get(id)
  if (!r || !canAccess(who, r.owner_id)) throw notFound('Connection')
  return r
}

const fieldsOf = (config: Config) => Object.keys(config).filter((f) => config[f] !== undefined && config[f] !== null && config[f] !== '')
const slugOf = (name: string) => toolSlug(name).slice(0, 30).replace(/_+$/, '')

export function list(k: Kernel, who: Principal): ConnectionView[] {
  const rows = connectionStore(k.db).list(listScope(who).ownerId)
  const byOwner = new Map<string, ConnectionRow[]>()
  for (const r of rows) byOwner.set(r.owner_id, [...(byOwner.get(r.owner_id) ?? []), r])
  const names = new Map<string, string[]>()
  for (const group of byOwner.values()) for (const [id, n] of toolNames(k, group)) names.set(id, n)
  return rows.map((r) => toView(r, names.get(r.id) ?? []))
}

export async function create(k: Kernel, who: Principal, input: CreateConnectionInput): Promise<ConnectionView> {
  const p = requirePlatform(input.platform)
  const id = newId('con')
  const auth = await authenticate(k, p, input.config, { id, name: input.name, rev: 1, tools: [] })
  const now = nowIso(k.clock)
  const row: ConnectionRow = {
    id, owner_id: who.userId, platform: p.id, name: input.name, slug: slugOf(input.name), config_sealed: k.secrets.seal(JSON.stringify(input.config)),
    config_fields: JSON.stringify(fieldsOf(input.config)), status: auth.status, error_message: auth.error_message, account: auth.account ? JSON.stringify(auth.account) : null,
    tools: JSON.stringify(auth.tools), rev: 1, last_tested_at: now, created_at: now, updated_at: now,
  }
  connectionStore(k.db).insert(row)
  return viewOf(k, row)
}

export async function update(k: Kernel, who: Principal, id: string, patch: UpdateConnectionInput): Promise<ConnectionView> {
  const cur = requireOwned(k, who, id)
  const p = requirePlatform(cur.platform)
  const next: ConnectionRow = { ...cur, updated_at: nowIso(k.clock) }
  if (patch.name !== undefined) { next.name = patch.name; next.slug = slugOf(patch.name) }
  if (patch.config !== undefined) {
    next.config_sealed = k.secrets.seal(JSON.stringify(patch.config))
    next.config_fields = JSON.stringify(fieldsOf(patch.config))
    next.rev = cur.rev + 1
  }
  if (patch.status === 'disabled') {
    if (patch.config !== undefined) checkConfig(p, patch.config)
    next.status = 'disabled'
    next.error_message = null
  } else if (patch.config !== undefined || patch.status === 'active') {
    const config = patch.config ?? openConfig(k, cur)
    mcpPool(k).forget(cur.id)
    const auth = await authenticate(k, p, config, { id: cur.id, name: next.name, rev: next.rev, tools: [] })
    Object.assign(next, { status: auth.status, error_message: auth.error_message, account: auth.account ? JSON.stringify(auth.account) : cur.account, tools: JSON.stringify(auth.tools.length || p.id === 'mcp' ? auth.tools : JSON.parse(cur.tools)), last_tested_at: next.updated_at })
  }
  connectionStore(k.db).update(next)
  if (next.status === 'disabled') mcpPool(k).forget(cur.id)
  return viewOf(k, next)
}

export function remove(k: Kernel, who: Principal, id: string) {
  const r = requireOwned(k, who, id)
  connectionStore(k.db).remove(r.id)
  mcpPool(k).forget(r.id)
}

/** Re-authenticates a stored connection and records the outcome (a disabled one stays disabled). */
export async function test(k: Kernel, who: Principal, id: string) {
  const cur = requireOwned(k, who, id)
  const p = requirePlatform(cur.platform)
  mcpPool(k).forget(cur.id)
  const auth = await authenticate(k, p, openConfig(k, cur), { id: cur.id, name: cur.name, rev: cur.rev, tools: JSON.parse(cur.tools) })
  const now = nowIso(k.clock)
  const next: ConnectionRow = {
    ...cur, status: cur.status === 'disabled' ? 'disabled' : auth.status, error_message: auth.error_message,
    account: auth.account ? JSON.stringify(auth.account) : cur.account, tools: p.id === 'mcp' && auth.status === 'active' ? JSON.stringify(auth.tools) : cur.tools,
    last_tested_at: now, updated_at: now,
  }
  connectionStore(k.db).update(next)
  return { ok: auth.status === 'active', status: next.status, error_message: auth.error_message, account: auth.account, tools: viewOf(k, next).tools }
}

/** Tests a config before saving it: nothing is stored. */
export async function testConfig(k: Kernel, input: { platform: string; config: Config }) {
  const p = requirePlatform(input.platform)
  const auth = await authenticate(k, p, input.config)
  const config = p.id === 'http' ? input.config : null
  return { ok: auth.status === 'active', status: auth.status, error_message: auth.error_message, account: auth.account, tools: p.tools(config, auth.tools).map((t) => `${p.id}_${t.op}`) }
}

export const platforms = () => PLATFORMS.map((p) => ({
  id: p.id, name: p.name, description: p.description, docs_url: p.docsUrl, config_schema: p.configSchema, secret_fields: p.secretFields,
  tools: p.tools(null, []).filter(() => p.id !== 'http' && p.id !== 'mcp').map((t) => ({ name: `${p.id}_${t.op}`, description: t.description, input_schema: t.inputSchema })),
}))

/** The caller's connections of one platform with their opened configs, for diagnostics (one by id: 404 if not theirs). */
export function withConfigs(k: Kernel, who: Principal, platform: string, id?: string | null) {
  const rows = id ? [requireOwned(k, who, id)] : connectionStore(k.db).list(listScope(who).ownerId)
  return rows.filter((r) => r.platform === platform).map((r) => ({
    id: r.id, name: r.name, status: r.status, error_message: r.error_message, account: r.account ? JSON.parse(r.account) as Record<string, unknown> : null,
    last_tested_at: r.last_tested_at, config: openConfig(k, r),
  }))
}
