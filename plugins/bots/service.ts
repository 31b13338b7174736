/** Bot rules: CRUD, lifecycle (activate/pause/delete), views without secrets. No Elysia here. */
import type { Kernel } from '../../src/kernel'
import { badRequest, notFound } from '../../src/http/errors'
import { assertOwnKeyForBaseUrl } from '../../src/llm/resolve'
import { canAccess, listScope, type Principal } from '../../src/auth/principal'
import { newId, randomString } from '../../src/db/ids'
import { nowIso } from '../../src/clock'
import * as workspaces from '../workspaces/service'
import { checkSkills, parseAllowList } from '../../src/tools/allow-list'
import * as channels from '../channels/service'
import { fromCents, toCents } from '../wallet/service'
import { botStore, templateStore, type BotRow, type UpdatableColumn } from './store'
import { openBot } from './record'
import { validateWorkflow } from './workflow'
import { isStepsWorkflow, validateBotWorkflow } from '../workflows/service'
import type { BotView, CreateBotInput, UpdateBotInput } from './model'

export type { BotRow }

export { handleIncoming, type IncomingMessage, type IncomingOptions, type IncomingResult } from './engine'
export { loadBot, type BotRecord } from './record'

export const BOT_DEFAULTS = {
  llm_provider: 'anthropic', llm_model: 'claude-sonnet-4-6', billing_mode: 'wallet', max_loop_iterations: 10,
  max_tokens_per_turn: 8192, timeout_ms: 30000, conversation_max_messages: 20, conversation_ttl_hours: 24,
} as const

export function slugify(name: string): string {
  const s = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60)
  return s || 'bot'
}

function uniqueSlug(k: Kernel, ownerId: string, name: string): string {
  const store = botStore(k.db), base = slugify(name)
  if (!store.slugTaken(ownerId, base)) return base
  for (let i = 2; i < 50; i++) if (!store.slugTaken(ownerId, `${base}-${i}`)) return `${base}-${i}`
  return `${base}-${randomString(6).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`
}

/** Validates platform_config for the platform (400 naming what is missing) and seals it; generates Telegram's secret_token. */
function sealPlatformConfig(k: Kernel, platform: string, cfg: Record<string, unknown> | null | undefined, previous: Record<string, unknown> | null): string | null {
  channels.validatePlatformConfig(platform, cfg ?? {})
  const out: Record<string, unknown> = { ...(cfg ?? {}) }
  if (platform === 'telegram' && !out.secret_token) out.secret_token = (previous?.secret_token as string | undefined) || randomString(32)
  return Object.keys(out).length ? k.secrets.sealJson(out) : null
}

/** `ownKey`: the bot runs on its own key (billing_mode byok with llm_api_key set); otherwise on the platform key. */
function checkLlm(k: Kernel, provider: string, config: { base_url?: string } | undefined, ownKey: boolean) {
  if (provider === 'custom' && !config?.base_url) throw badRequest('llm_config.base_url is required for the custom provider', { 'llm_config.base_url': 'is required for llm_provider "custom"' })
  if (config?.base_url && !/^https?:\/\//i.test(config.base_url)) throw badRequest('llm_config.base_url must be an http(s) URL', { 'llm_config.base_url': 'must be an http(s) URL' })
  assertOwnKeyForBaseUrl(k.config, provider, config?.base_url, ownKey, 'llm_config.base_url')
}

/** The API shape: no secrets, only has_* flags. */
export function toView(k: Kernel, r: BotRow, extra: { conversation_count?: number; base?: string; withTemplate?: boolean } = {}): BotView {
  const view: BotView = {
    id: r.id, name: r.name, slug: r.slug, description: r.description, platform: r.platform, status: r.status,
    workspace_id: r.workspace_id, template_id: r.template_id,
    system_prompt: r.system_prompt, llm_provider: r.llm_provider, llm_model: r.llm_model, llm_config: JSON.parse(r.llm_config || '{}'),
    billing_mode: r.billing_mode, max_loop_iterations: r.max_loop_iterations, max_tokens_per_turn: r.max_tokens_per_turn,
    timeout_ms: r.timeout_ms, conversation_max_messages: r.conversation_max_messages, conversation_ttl_hours: r.conversation_ttl_hours,
    enable_rag: !!r.enable_rag, welcome_message: r.welcome_message, fallback_message: r.fallback_message,
    spending_cap_cents: r.spending_cap_micro === null ? null : toCents(r.spending_cap_micro), total_cost_cents: toCents(r.total_cost_micro),
    workflow_json: r.workflow_json ? JSON.parse(r.workflow_json) : null, workflow_enabled: !!r.workflow_enabled,
    has_platform_config: !!r.platform_config, has_llm_api_key: !!r.llm_api_key,
    conversation_count: extra.conversation_count ?? botStore(k.db).conversationCount(r.id),
    last_active_at: r.last_active_at, created_at: r.created_at, updated_at: r.updated_at,
    tools: parseAllowList(r.tools),
  }
  if (extra.base) view.webhook_url = `${extra.base}${channels.webhookPath(r)}`
  if (extra.withTemplate) {
    const tpl = r.template_id ? templateStore(k.db).get(r.template_id) : null
    view.template = tpl ? { id: tpl.id, name: tpl.name, category: tpl.category, is_system: !!tpl.is_system } : null
  }
  return view
}

/** The bot row if `who` may reach it; 404 otherwise (others' bots look missing). */
export function requireBot(k: Kernel, who: Principal, id: string): BotRow {
  const row = botStore(k.db).get(id)
  if (!row || !canAccess(who, row.owner_id, row.workspace_id)) throw notFound('Bot')
  return row
}

export function list(k: Kernel, who: Principal): BotView[] {
  const { ownerId, workspaceId } = listScope(who)
  return botStore(k.db).list(ownerId, workspaceId).map((r) => toView(k, r, { conversation_count: r.conversation_count }))
}

/** Creates a draft bot. Synchronous, so the setup wizard can run it inside its transaction. */
export function create(k: Kernel, who: Principal, input: CreateBotInput, opts: { templateId?: string | null; base?: string } = {}): BotView {
  const ws = workspaces.requireOwned(k, who, input.workspace_id)
  const provider = input.llm_provider ?? BOT_DEFAULTS.llm_provider
  checkLlm(k, provider, input.llm_config, (input.billing_mode ?? BOT_DEFAULTS.billing_mode) === 'byok' && !!input.llm_api_key)
  const platformConfig = sealPlatformConfig(k, input.platform, input.platform_config, null)
  const now = nowIso(k.clock)
  const row: BotRow = {
    id: newId('bt'), owner_id: ws.owner_id, workspace_id: ws.id, template_id: opts.templateId ?? null,
    name: input.name, slug: uniqueSlug(k, ws.owner_id, input.name), description: input.description ?? null,
    platform: input.platform as BotRow['platform'], platform_config: platformConfig, status: 'draft',
    system_prompt: input.system_prompt, llm_provider: provider, llm_model: input.llm_model ?? BOT_DEFAULTS.llm_model,
    llm_api_key: input.llm_api_key ? k.secrets.seal(input.llm_api_key) : null, llm_config: JSON.stringify(input.llm_config ?? {}),
    billing_mode: input.billing_mode ?? BOT_DEFAULTS.billing_mode,
    max_loop_iterations: input.max_loop_iterations ?? BOT_DEFAULTS.max_loop_iterations,
    max_tokens_per_turn: input.max_tokens_per_turn ?? BOT_DEFAULTS.max_tokens_per_turn,
    timeout_ms: input.timeout_ms ?? BOT_DEFAULTS.timeout_ms,
    conversation_max_messages: input.conversation_max_messages ?? BOT_DEFAULTS.conversation_max_messages,
    conversation_ttl_hours: input.conversation_ttl_hours ?? BOT_DEFAULTS.conversation_ttl_hours,
    enable_rag: input.enable_rag ? 1 : 0, welcome_message: input.welcome_message ?? null, fallback_message: input.fallback_message ?? null,
    spending_cap_micro: input.spending_cap_cents == null ? null : fromCents(input.spending_cap_cents), total_cost_micro: 0,
    workflow_json: null, workflow_enabled: 0, last_active_at: null, created_at: now, updated_at: now,
    tools: input.tools ? JSON.stringify([...new Set(input.tools)]) : null,
  }
  botStore(k.db).insert(row)
  return toView(k, row, { conversation_count: 0, base: opts.base })
}

export function update(k: Kernel, who: Principal, id: string, input: UpdateBotInput): BotRow {
  const row = requireBot(k, who, id)
  // workflow_json in the workflow step format ({ steps }) runs through the workflows engine when enabled.
  if (input.workflow_json !== undefined && input.workflow_json !== null) {
    if (isStepsWorkflow(input.workflow_json)) validateBotWorkflow(input.workflow_json)
    else validateWorkflow(input.workflow_json)
  }
  const enabled = input.workflow_enabled ?? !!row.workflow_enabled
  if (enabled) validateBotWorkflow(input.workflow_json !== undefined ? input.workflow_json : row.workflow_json ? JSON.parse(row.workflow_json) : null)
  const patch: Partial<Pick<BotRow, UpdatableColumn>> = {}
  const direct = ['name', 'description', 'system_prompt', 'llm_provider', 'llm_model', 'billing_mode', 'max_loop_iterations', 'max_tokens_per_turn',
    'timeout_ms', 'conversation_max_messages', 'conversation_ttl_hours', 'welcome_message', 'fallback_message'] as const
  for (const f of direct) if (input[f] !== undefined) (patch as Record<string, unknown>)[f] = input[f]
  const provider = input.llm_provider ?? row.llm_provider
  const llmConfig = input.llm_config ?? JSON.parse(row.llm_config || '{}')
  const ownKey = (input.billing_mode ?? row.billing_mode) === 'byok' && (input.llm_api_key !== undefined ? !!input.llm_api_key : !!row.llm_api_key)
  if (input.llm_provider !== undefined || input.llm_config !== undefined || input.billing_mode !== undefined || input.llm_api_key !== undefined) {
    checkLlm(k, provider, llmConfig, ownKey)
  }
  if (input.llm_config !== undefined) patch.llm_config = JSON.stringify(input.llm_config)
  if (input.llm_api_key !== undefined) patch.llm_api_key = input.llm_api_key === null ? null : k.secrets.seal(input.llm_api_key)
  if (input.platform_config !== undefined) patch.platform_config = sealPlatformConfig(k, row.platform, input.platform_config, openBot(k, row).platform_config)
  if (input.enable_rag !== undefined) patch.enable_rag = input.enable_rag ? 1 : 0
  if (input.spending_cap_cents !== undefined) patch.spending_cap_micro = input.spending_cap_cents === null ? null : fromCents(input.spending_cap_cents)
  if (input.workflow_json !== undefined) patch.workflow_json = input.workflow_json === null ? null : JSON.stringify(input.workflow_json)
  if (input.workflow_enabled !== undefined) patch.workflow_enabled = input.workflow_enabled ? 1 : 0
  if (input.tools !== undefined) patch.tools = input.tools === null ? null : JSON.stringify([...new Set(input.tools)])
  botStore(k.db).update(id, patch, nowIso(k.clock))
  channels.invalidateBot(k, id) // webhook verification reads the new platform_config at once
  return botStore(k.db).get(id)!
}

function setStatus(k: Kernel, row: BotRow, status: BotRow['status']) {
  k.db.transaction(() => {
    botStore(k.db).setStatus(row.id, status, nowIso(k.clock))
    if (row.status !== status) k.events.publish('bot.status.changed', { bot_id: row.id, platform: row.platform, status, previous_status: row.status, reason: null }, { ownerId: row.owner_id })
    publishAgentStatus(k, row, row.status, status)
  })()
  channels.invalidateBot(k, row.id)
}

/** Warnings about how the bot will pay for its model calls. */
function billingWarnings(k: Kernel, bot: ReturnType<typeof openBot>): string[] {
  const w: string[] = []
  if (bot.billing_mode === 'byok' && !bot.llm_api_key) w.push('billing_mode is "byok" but no llm_api_key is set: the bot will answer with its fallback message until you set one.')
  if (bot.billing_mode !== 'byok' && bot.llm_api_key) w.push(`llm_api_key is set but billing_mode is "${bot.billing_mode}": the platform key is used; set billing_mode to "byok" to use your key.`)
  const platformKey = (k.config.llmKeys as Record<string, string | null>)[bot.llm_provider]
  if (bot.billing_mode !== 'byok' && bot.llm_provider !== 'ollama' && !platformKey) w.push(`No platform key is configured for ${bot.llm_provider}: use billing_mode "byok" with your own llm_api_key.`)
  return w
}

/** Registers the webhook with the platform and sets status active. */
export async function activate(k: Kernel, who: Principal, id: string, base: string) {
  const row = requireBot(k, who, id)
  const bot = openBot(k, row)
  const webhookUrl = `${base}${channels.webhookPath(row)}`
  const reg = await channels.registerWebhook(k, { id: bot.id, platform: bot.platform, platform_config: bot.platform_config }, webhookUrl)
  const warnings = [...reg.warnings]
  if (bot.platform === 'custom') warnings.push('Custom webhooks are not verified: anyone who knows the webhook URL can message the bot (and spend its budget). Keep the URL secret and set spending_cap_cents.')
  warnings.push(...billingWarnings(k, bot))
  setStatus(k, requireBot(k, who, id), 'active')
  return { status: 'active', webhook_url: webhookUrl, warnings, manual_setup_required: reg.manual_setup_required }
}

/** Unregisters the webhook and sets status paused; a failing platform call does not keep the bot answering. */
export async function pause(k: Kernel, who: Principal, id: string) {
  const row = requireBot(k, who, id)
  const warnings: string[] = []
  setStatus(k, row, 'paused')
  if (row.status === 'active') {
    const bot = openBot(k, row)
    try {
      await channels.unregisterWebhook(k, { id: bot.id, platform: bot.platform, platform_config: bot.platform_config })
    } catch (err) {
      warnings.push(`The bot is paused, but unregistering its webhook failed: ${(err as Error).message}. Deliveries are refused while paused.`)
    }
  }
  return warnings.length ? { status: 'paused', warnings } : { status: 'paused' }
}

/** Deletes the bot with its conversations, messages (and so its analytics); unregisters the webhook, best effort. */
export async function remove(k: Kernel, who: Principal, id: string) {
  const row = requireBot(k, who, id)
  if (row.status === 'active') {
    const bot = openBot(k, row)
    try {
      await channels.unregisterWebhook(k, { id: bot.id, platform: bot.platform, platform_config: bot.platform_config })
    } catch (err) {
      k.log.warn('bot webhook unregister failed on delete', { bot_id: id, error: (err as Error).message })
    }
  }
  k.db.transaction(() => {
    botStore(k.db).remove(id)
    k.events.publish('bot.status.changed', { bot_id: id, platform: row.platform, status: 'deleted', previous_status: row.status, reason: null }, { ownerId: row.owner_id })
    publishAgentStatus(k, row, row.status, 'deleted')
  })()
  channels.invalidateBot(k, id)
}

/** Skills named in a create/update body must exist in the bot's workspace (async: the tool catalog); 400 naming unknown ones. */
export async function checkBotSkills(k: Kernel, who: Principal, body: { tools?: string[] | null; workspace_id?: string }, botId?: string) {
  if (!body.tools) return
  if (botId) {
    const bot = requireBot(k, who, botId)
    await checkSkills(k, bot.owner_id, bot.workspace_id, body.tools)
  } else {
    const ws = workspaces.requireOwned(k, who, body.workspace_id!)
    await checkSkills(k, ws.owner_id, ws.id, body.tools)
  }
}

/** /v1's agent.status.changed: online = active; published with bot.status.changed when online/offline flips. */
function publishAgentStatus(k: Kernel, row: BotRow, from: string, to: string) {
  const was = from === 'active' ? 'online' : 'offline'
  const now = to === 'active' ? 'online' : 'offline'
  if (was !== now) k.events.publish('agent.status.changed', { agent_id: row.id, type: 'bot', status: now, previous_status: was }, { ownerId: row.owner_id })
}

/** Raw rows for other surfaces (/v1's agent directory); they apply their own access rules. */
export const findRow = (k: Kernel, id: string): BotRow | null => botStore(k.db).get(id)
export const listRows = (k: Kernel, ownerId: string | null, workspaceId: string | null): BotRow[] => botStore(k.db).list(ownerId, workspaceId)
