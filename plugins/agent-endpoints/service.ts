import type { Kernel } from '../../src/kernel'
import { badRequest, conflict, notFound } from '../../src/http/errors'
import { canAccess, listScope, type Principal } from '../../src/auth/principal'
import { mintKey } from '../../src/auth/keys'
import { assertOwnKeyForBaseUrl } from '../../src/llm/resolve'
import { newId, randomString } from '../../src/db/ids'
import { randomBytes } from 'node:crypto'
import { nowIso } from '../../src/clock'
import { validatorFor } from '../../src/agent/schema'
import * as workspaces from '../workspaces/service'
import { checkSkills, parseAllowList } from '../../src/tools/allow-list'
import { toCents } from '../wallet/service'
import type { RunView as StoredRun } from '../../src/runs/types'
import { endpointsStore, templatesStore, type EndpointRow } from './store'
import { AGENT_TYPES, LIMITS, type CreateEndpointInput, type EndpointView, type RunView, type TemplateView, type UpdateEndpointInput } from './model'

/** Agent endpoint management rules (no HTTP here): ownership, slugs, defaults, keys, status. */

export type { EndpointRow }

/** Lookups other surfaces (OpenAI-compatible, /v1, MCP server) make; they apply their own access rules. */
export const findByKeyHash = (k: Kernel, hash: string) => endpointsStore(k.db).byKeyHash(hash)
export const findByIdOrSlug = (k: Kernel, idOrSlug: string) => endpointsStore(k.db).byIdOrSlug(idOrSlug)
export const findById = (k: Kernel, id: string) => endpointsStore(k.db).get(id)
export const listRows = (k: Kernel, ownerId: string | null, workspaceId: string | null) => endpointsStore(k.db).list(ownerId, workspaceId)
export const listActive = (k: Kernel, ownerId: string | null, workspaceId: string | null) => endpointsStore(k.db).active(ownerId, workspaceId)

export const DEFAULTS = {
  description: null, agent_type: 'extractor', llm_provider: 'openai', llm_model: 'gpt-4o-mini', max_tokens: 4096, temperature: 0.3,
  input_schema: null, output_schema: null, output_format: 'text', max_tool_calls: 10, timeout_ms: 30000, enable_streaming: false,
  async_mode: false, auth_mode: 'api_key', price_per_run_cents: 0, rate_limit_rpm: 60,
} as const

export const runPath = (slug: string) => `/api/run/${slug}`
const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v))
const parse = (s: string | null) => (s === null ? null : (JSON.parse(s) as Record<string, unknown>))

export function toView(r: EndpointRow): EndpointView {
  return {
    id: r.id, owner_id: r.owner_id, workspace_id: r.workspace_id, name: r.name, slug: r.slug, description: r.description,
    agent_type: r.agent_type, system_prompt: r.system_prompt, llm_provider: r.llm_provider, llm_model: r.llm_model,
    has_llm_api_key: r.llm_api_key_sealed !== null, llm_base_url: r.llm_base_url, max_tokens: r.max_tokens, temperature: r.temperature,
    input_schema: parse(r.input_schema), output_schema: parse(r.output_schema), output_format: r.output_format,
    max_tool_calls: r.max_tool_calls, timeout_ms: r.timeout_ms, enable_streaming: r.enable_streaming ? 1 : 0, async_mode: r.async_mode ? 1 : 0,
    auth_mode: r.auth_mode, price_per_run_cents: r.price_per_run_cents, rate_limit_rpm: r.rate_limit_rpm, template_id: r.template_id,
    status: r.status, key_prefix: r.key_prefix, run_url: runPath(r.slug), created_at: r.created_at, updated_at: r.updated_at,
    tools: parseAllowList(r.tools),
  }
}

export function runView(r: StoredRun): RunView {
  return {
    id: r.id, endpoint_id: r.source_id ?? '', input: r.input, output: r.output, tool_calls: r.tool_calls, tokens_input: r.tokens_input,
    tokens_output: r.tokens_output, cost_cents: toCents(r.cost_micro), latency_ms: r.latency_ms, status: r.status, caller_ip: r.caller,
    error: r.error, created_at: r.created_at, finished_at: r.finished_at,
  }
}

/** The endpoint row if `who` may reach it; 404 otherwise (others' endpoints look missing). */
export function requireOwned(k: Kernel, who: Principal, id: string): EndpointRow {
  const row = endpointsStore(k.db).get(id)
  if (!row || !canAccess(who, row.owner_id, row.workspace_id)) throw notFound('Agent endpoint')
  return row
}

export function list(k: Kernel, who: Principal): EndpointView[] {
  const { ownerId, workspaceId } = listScope(who)
  return endpointsStore(k.db).list(ownerId, workspaceId).map(toView)
}

/** `Invoice Parser!` -> `invoice-parser` (max 60 chars; `endpoint` when nothing is left). */
export function slugify(name: string): string {
  const s = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')
  return s.slice(0, LIMITS.slug).replace(/-+$/, '') || 'endpoint'
}

function uniqueSlug(k: Kernel, name: string): string {
  const base = slugify(name)
  const store = endpointsStore(k.db)
  if (!store.slugTaken(base)) return base
  for (let n = 2; n < 50; n++) {
    const suffix = `-${n}`
    const s = base.slice(0, LIMITS.slug - suffix.length).replace(/-+$/, '') + suffix
    if (!store.slugTaken(s)) return s
  }
  return `${base.slice(0, LIMITS.slug - 9).replace(/-+$/, '')}-${randomString(8).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`
}

const slugConflict = (slug: string) => conflict(`Slug "${slug}" is already taken; choose another`)
const isSlugUnique = (err: unknown) => /UNIQUE constraint failed: agent_endpoints\.slug/.test((err as Error)?.message ?? '')

/** input_schema / output_schema: a JSON object (null clears); output_schema must compile as a JSON Schema. */
function checkSchemas(input: { input_schema?: unknown; output_schema?: unknown }) {
  for (const f of ['input_schema', 'output_schema'] as const) {
    const v = input[f]
    if (v === undefined || v === null) continue
    if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`${f.charAt(0).toUpperCase()}${f.slice(1)} must be a JSON object (a JSON Schema)`, { [f]: 'must be a JSON object' })
  }
  if (input.output_schema && !validatorFor(input.output_schema as Record<string, unknown>)) {
    throw badRequest('Output_schema is not a valid JSON Schema', { output_schema: 'is not a valid JSON Schema' })
  }
}

async function checkLlm(k: Kernel, provider: string, baseUrl: string | null, hasOwnKey: boolean) {
  if (provider === 'custom' && !baseUrl) throw badRequest('llm_base_url is required when llm_provider is "custom"', { llm_base_url: 'is required for llm_provider "custom"' })
  assertOwnKeyForBaseUrl(k.config, provider, baseUrl, hasOwnKey, 'llm_base_url')
  if (baseUrl) await k.outbound.check(baseUrl)
}

export function getTemplate(k: Kernel, id: string): TemplateView {
  const tpl = templatesStore(k.db).get(id)
  if (!tpl) throw notFound('Template')
  return tpl
}

export const listTemplates = (k: Kernel, type: string | null) => templatesStore(k.db).list(type)

export async function create(k: Kernel, who: Principal, input: CreateEndpointInput) {
  checkSchemas(input)
  const ws = workspaces.requireOwned(k, who, input.workspace_id)
  const tpl = input.template_id ? getTemplate(k, input.template_id) : null
  const name = input.name ?? tpl?.name
  const systemPrompt = input.system_prompt ?? tpl?.system_prompt
  if (!name) throw badRequest('Name is required', { name: 'is required' })
  if (!systemPrompt) throw badRequest('System_prompt is required (or give a template_id)', { system_prompt: 'is required' })
  const v = { ...DEFAULTS, ...Object.fromEntries(Object.entries(input).filter(([, x]) => x !== undefined)) } as typeof DEFAULTS & CreateEndpointInput
  if (tpl) {
    if (input.description === undefined) v.description = tpl.description as any
    if (input.agent_type === undefined && (AGENT_TYPES as readonly string[]).includes(tpl.category)) v.agent_type = tpl.category as any
    if (input.input_schema === undefined) v.input_schema = parse(tpl.input_schema) as any
    if (input.output_schema === undefined) v.output_schema = parse(tpl.output_schema) as any
    if (input.output_format === undefined) v.output_format = tpl.output_format as any
  }
  const baseUrl = input.llm_base_url ?? null
  await checkLlm(k, v.llm_provider, baseUrl, !!input.llm_api_key)
  const slug = input.slug ?? uniqueSlug(k, name)
  if (input.slug && endpointsStore(k.db).slugTaken(slug)) throw slugConflict(slug)
  const { key, hash, display } = mintKey('aek_')
  const callbackSecret = mintCallbackSecret()
  const now = nowIso(k.clock)
  const row: EndpointRow = {
    id: newId('aep'), owner_id: ws.owner_id, workspace_id: ws.id, name, slug, description: v.description ?? null, agent_type: v.agent_type,
    system_prompt: systemPrompt, llm_provider: v.llm_provider, llm_model: v.llm_model,
    llm_api_key_sealed: input.llm_api_key ? k.secrets.seal(input.llm_api_key) : null, llm_base_url: baseUrl, max_tokens: v.max_tokens,
    temperature: v.temperature, input_schema: json(v.input_schema), output_schema: json(v.output_schema), output_format: v.output_format,
    max_tool_calls: v.max_tool_calls, timeout_ms: v.timeout_ms, enable_streaming: v.enable_streaming ? 1 : 0, async_mode: v.async_mode ? 1 : 0,
    auth_mode: v.auth_mode, price_per_run_cents: v.price_per_run_cents, rate_limit_rpm: v.rate_limit_rpm, template_id: tpl?.id ?? null,
    status: 'draft', key_hash: hash, key_prefix: display, key_sealed: k.secrets.seal(key), created_at: now, updated_at: now,
    callback_secret_sealed: k.secrets.seal(callbackSecret),
    tools: input.tools ? JSON.stringify(await checkSkills(k, ws.owner_id, ws.id, input.tools)) : null,
  }
  try {
    endpointsStore(k.db).insert(row)
  } catch (err) {
    if (isSlugUnique(err)) throw slugConflict(slug)
    throw err
  }
  return { endpoint: toView(row), api_key: key, run_url: runPath(slug), callback_secret: callbackSecret }
}

export async function update(k: Kernel, who: Principal, id: string, patch: UpdateEndpointInput): Promise<EndpointView> {
  const row = requireOwned(k, who, id)
  checkSchemas(patch)
  if (patch.workspace_id !== undefined && patch.workspace_id !== row.workspace_id) {
    throw badRequest('workspace_id cannot be changed after creation', { workspace_id: 'is immutable' })
  }
  const next: EndpointRow = { ...row, updated_at: nowIso(k.clock) }
  const set = <K extends keyof EndpointRow>(col: K, v: EndpointRow[K] | undefined) => { if (v !== undefined) next[col] = v }
  set('name', patch.name)
  set('description', patch.description)
  set('system_prompt', patch.system_prompt)
  set('agent_type', patch.agent_type)
  set('llm_provider', patch.llm_provider)
  set('llm_model', patch.llm_model)
  set('llm_base_url', patch.llm_base_url)
  set('max_tokens', patch.max_tokens)
  set('temperature', patch.temperature)
  set('output_format', patch.output_format)
  set('max_tool_calls', patch.max_tool_calls)
  set('timeout_ms', patch.timeout_ms)
  set('auth_mode', patch.auth_mode)
  set('price_per_run_cents', patch.price_per_run_cents)
  set('rate_limit_rpm', patch.rate_limit_rpm)
  if (patch.input_schema !== undefined) next.input_schema = json(patch.input_schema)
  if (patch.output_schema !== undefined) next.output_schema = json(patch.output_schema)
  if (patch.enable_streaming !== undefined) next.enable_streaming = patch.enable_streaming ? 1 : 0
  if (patch.async_mode !== undefined) next.async_mode = patch.async_mode ? 1 : 0
  if (patch.tools !== undefined) next.tools = patch.tools === null ? null : JSON.stringify(await checkSkills(k, row.owner_id, row.workspace_id, patch.tools))
  if (patch.llm_api_key !== undefined) next.llm_api_key_sealed = patch.llm_api_key === null ? null : k.secrets.seal(patch.llm_api_key)
  if (patch.llm_provider !== undefined || patch.llm_base_url !== undefined || patch.llm_api_key !== undefined) await checkLlm(k, next.llm_provider, next.llm_base_url, next.llm_api_key_sealed !== null)
  if (patch.slug !== undefined && patch.slug !== row.slug) {
    if (endpointsStore(k.db).slugTaken(patch.slug)) throw slugConflict(patch.slug)
    next.slug = patch.slug
  }
  try {
    endpointsStore(k.db).update(next)
  } catch (err) {
    if (isSlugUnique(err)) throw slugConflict(next.slug)
    throw err
  }
  return toView(next)
}

/** Sets the tool allow-list (already checked by the caller): sync, so it can share the caller's transaction. */
export function setTools(k: Kernel, who: Principal, id: string, tools: string[] | null) {
  const row = requireOwned(k, who, id)
  endpointsStore(k.db).update({ ...row, tools: tools === null ? null : JSON.stringify(tools), updated_at: nowIso(k.clock) })
}

/** Deletes the endpoint and (trigger, then cascade) its runs and their recorded events; its running runs stop. */
export function remove(k: Kernel, who: Principal, id: string) {
  const row = requireOwned(k, who, id)
  endpointsStore(k.db).remove(row.id)
  k.runs.cancelSource('endpoint', row.id, { message: 'The endpoint was deleted', code: 'endpoint_deleted', status: 410 })
  return row
}

/** Sets the status; publishes endpoint.status.changed in the same transaction when it changes. */
export function setStatus<S extends 'active' | 'paused'>(k: Kernel, who: Principal, id: string, status: S): { status: S } {
  const row = requireOwned(k, who, id)
  if (row.status !== status) {
    k.db.transaction(() => {
      endpointsStore(k.db).setStatus(row.id, status, nowIso(k.clock))
      k.events.publish('endpoint.status.changed', { endpoint_id: row.id, slug: row.slug, status, previous_status: row.status }, { ownerId: row.owner_id })
      // /v1's view of the same change: an agent is online when active.
      const online = (x: string) => (x === 'active' ? 'online' : 'offline')
      if (online(row.status) !== online(status)) {
        k.events.publish('agent.status.changed', { agent_id: row.id, type: 'endpoint', status: online(status), previous_status: online(row.status) }, { ownerId: row.owner_id })
      }
    })()
  }
  return { status }
}

/** A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export const mintCallbackSecret = () => `whsec_${randomBytes(32).toString('base64')}`

/** A new key and a new callback secret; the old ones stop working at once (only the new hash is stored). */
export function regenerateKey(k: Kernel, who: Principal, id: string) {
  const row = requireOwned(k, who, id)
  const { key, hash, display } = mintKey('aek_')
  const callbackSecret = mintCallbackSecret()
  endpointsStore(k.db).setKey(row.id, hash, display, k.secrets.seal(key), k.secrets.seal(callbackSecret), nowIso(k.clock))
  return { api_key: key, key_prefix: display, callback_secret: callbackSecret }
}

export function listRuns(k: Kernel, who: Principal, id: string, limit: number): RunView[] {
  const row = requireOwned(k, who, id)
  return k.runs.list('endpoint', row.id, limit).map(runView)
}


export { extractInput, requestFor } from './execute'
