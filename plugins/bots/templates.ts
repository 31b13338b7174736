/** Bot templates: system templates (seeded by the migration, read-only) and each user's own. */
import type { Kernel } from '../../src/kernel'
import { badRequest, forbidden, notFound } from '../../src/http/errors'
import { canAccess, type Principal } from '../../src/auth/principal'
import { newId } from '../../src/db/ids'
import { nowIso } from '../../src/clock'
import { templateStore, type TemplateRow } from './store'
import type { CreateTemplateInput, TemplateView, UpdateTemplateInput } from './templates-model'


export interface ConfigField { key: string; label?: string; description?: string; required?: boolean; default?: string }
export interface SuggestedServer { name: string; url: string; transport?: 'http'; description?: string }

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}/g

/** The distinct {{placeholders}} of some texts, in order of first use. */
export function placeholders(...texts: (string | null | undefined)[]): string[] {
  const out = new Set<string>()
  for (const s of texts) for (const m of (s ?? '').matchAll(PLACEHOLDER)) out.add(m[1])
  return [...out]
}

/** Replaces {{key}} with values[key]; unknown keys are left as they are. Text only, never evaluated. */
export const fill = (text: string, values: Record<string, string>) =>
  text.replace(PLACEHOLDER, (whole, key: string) => (Object.hasOwn(values, key) ? values[key] : whole))

export interface Template {
  row: TemplateRow
  configFields: ConfigField[]
  servers: SuggestedServer[]
}

const parse = (row: TemplateRow): Template => ({ row, configFields: JSON.parse(row.config_fields), servers: JSON.parse(row.suggested_mcp_servers) })

export function toTemplateView(t: Template): TemplateView {
  const r = t.row
  return {
    id: r.id, name: r.name, description: r.description, category: r.category, system_prompt: r.system_prompt,
    welcome_message: r.welcome_message, fallback_message: r.fallback_message,
    placeholders: placeholders(r.system_prompt, r.welcome_message, r.fallback_message, ...t.servers.map((s) => s.url)),
    config_fields: t.configFields, suggested_mcp_servers: t.servers, is_system: !!r.is_system,
    created_at: r.created_at, updated_at: r.updated_at,
  }
}

const get = (k: Kernel, id: string) => templateStore(k.db).get(id)

/** System templates are visible to all; a user's own templates to them (and admin tokens). */
function visible(row: TemplateRow | null, who: Principal | null) {
  return !!row && (!!row.is_system || (!!who && !!row.owner_id && canAccess(who, row.owner_id)))
}

export function requireVisible(k: Kernel, who: Principal | null, id: string): Template {
  const row = get(k, id)
  if (!row || !visible(row, who)) throw notFound('Template')
  return parse(row)
}

/** Own template for update/delete: system templates 403, others' 404. */
function requireOwnTemplate(k: Kernel, who: Principal, id: string): TemplateRow {
  const row = get(k, id)
  if (!row || !visible(row, who)) throw notFound('Template')
  if (row.is_system) throw forbidden('System templates cannot be modified or deleted; create your own template instead')
  return row
}

export function list(k: Kernel, who: Principal | null, q: { type?: string; limit?: number }): TemplateView[] {
  const owner = who ? (who.instanceWide ? '*' : who.userId) : null
  const rows = templateStore(k.db).list(owner, q.type ?? null, q.limit ?? 50)
  return rows.map((r) => toTemplateView(parse(r)))
}

/** Config fields as given, plus any placeholder used but not declared (no default: setup must provide it). */
function configFieldsFor(input: { system_prompt: string; welcome_message?: string | null; fallback_message?: string | null }, given: ConfigField[] | undefined, servers: SuggestedServer[]) {
  const fields = [...(given ?? [])]
  const keys = new Set(fields.map((f) => f.key))
  if (keys.size !== fields.length) throw badRequest('config_fields has duplicate keys', { config_fields: 'must not repeat a key' })
  for (const p of placeholders(input.system_prompt, input.welcome_message, input.fallback_message, ...servers.map((s) => s.url))) {
    if (!keys.has(p)) fields.push({ key: p, required: true })
  }
  return fields
}

export function create(k: Kernel, who: Principal, input: CreateTemplateInput): TemplateView {
  const now = nowIso(k.clock)
  const servers = input.suggested_mcp_servers ?? []
  const row: TemplateRow = {
    id: newId('tpl'), owner_id: who.userId, is_system: 0, name: input.name, description: input.description, category: input.category,
    system_prompt: input.system_prompt, welcome_message: input.welcome_message ?? null, fallback_message: input.fallback_message ?? null,
    config_fields: JSON.stringify(configFieldsFor(input, input.config_fields, servers)), suggested_mcp_servers: JSON.stringify(servers),
    created_at: now, updated_at: now,
  }
  templateStore(k.db).insert(row)
  return toTemplateView(parse(row))
}

export function update(k: Kernel, who: Principal, id: string, patch: UpdateTemplateInput): TemplateView {
  const cur = parse(requireOwnTemplate(k, who, id))
  const next = {
    name: patch.name ?? cur.row.name, description: patch.description ?? cur.row.description, category: patch.category ?? cur.row.category,
    system_prompt: patch.system_prompt ?? cur.row.system_prompt,
    welcome_message: patch.welcome_message !== undefined ? patch.welcome_message : cur.row.welcome_message,
    fallback_message: patch.fallback_message !== undefined ? patch.fallback_message : cur.row.fallback_message,
  }
  const servers = patch.suggested_mcp_servers ?? cur.servers
  const fields = configFieldsFor(next, patch.config_fields ?? cur.configFields.filter((f) => f.label || f.default !== undefined || f.description), servers)
  const now = nowIso(k.clock)
  templateStore(k.db).update(id, { ...next, config_fields: JSON.stringify(fields), suggested_mcp_servers: JSON.stringify(servers), updated_at: now })
  return toTemplateView(parse(get(k, id)!))
}

export function remove(k: Kernel, who: Principal, id: string) {
  requireOwnTemplate(k, who, id)
  templateStore(k.db).remove(id)
}
