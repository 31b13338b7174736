/**
 * The setup wizard: template -> workspace + the template's MCP servers + a bot with config_values
 * filled into its {{placeholders}}, in ONE transaction (nothing half-created on any error).
 */
import type { Kernel } from '../../src/kernel'
import { ApiError, badRequest } from '../../src/http/errors'
import type { Principal } from '../../src/auth/principal'
import * as workspaces from '../workspaces/service'
import * as mcp from '../mcp/service'
import * as bots from './service'
import { fill, placeholders, requireVisible, type Template } from './templates'
import type { SetupInput } from './templates-model'
import type { CreateBotInput } from './model'

/** Values for every placeholder: config_values, else the field's default; 400 naming each missing one. */
export function resolveValues(tpl: Template, given: Record<string, string> = {}): Record<string, string> {
  const values: Record<string, string> = {}
  for (const f of tpl.configFields) if (f.default !== undefined) values[f.key] = f.default
  for (const [key, v] of Object.entries(given)) values[key] = v
  const used = placeholders(tpl.row.system_prompt, tpl.row.welcome_message, tpl.row.fallback_message, ...tpl.servers.map((s) => s.url))
  const missing = used.filter((key) => !Object.hasOwn(values, key))
  if (missing.length) {
    throw badRequest(`config_values is missing ${missing.map((m) => `"${m}"`).join(', ')} (used by template ${tpl.row.id})`,
      Object.fromEntries(missing.map((m) => [`config_values.${m}`, 'is required by the template'])))
  }
  return values
}

export function setup(k: Kernel, who: Principal, input: SetupInput) {
  if (who.workspaceId) throw new ApiError(403, 'The setup wizard creates a workspace: use a credential that is not bound to one workspace', 'forbidden')
  const tpl = requireVisible(k, who, input.template_id)
  const values = resolveValues(tpl, input.config_values)
  const name = input.bot_name ?? tpl.row.name
  const platform = input.platform ?? 'custom'
  const servers = tpl.servers.map((s) => ({ ...s, url: fill(s.url, values).trim() }))
  const warnings: string[] = []
  return k.db.transaction(() => {
    const workspace = workspaces.create(k, who, { name, description: `Created by the setup wizard from the "${tpl.row.name}" template` })
    const mcpServers = []
    for (const s of servers) {
      if (!s.url) { warnings.push(`MCP server "${s.name}" was skipped: its URL is empty (set it in config_values to attach it).`); continue }
      mcpServers.push(mcp.attachHttpServer(k, who, workspace.id, { name: s.name, url: s.url }))
    }
    const bot = bots.create(k, who, {
      name, platform, workspace_id: workspace.id,
      system_prompt: fill(tpl.row.system_prompt, values),
      welcome_message: tpl.row.welcome_message ? fill(tpl.row.welcome_message, values) : null,
      fallback_message: tpl.row.fallback_message ? fill(tpl.row.fallback_message, values) : null,
      platform_config: (input.platform_config ?? undefined) as CreateBotInput['platform_config'],
      llm_api_key: input.llm_api_key,
      billing_mode: input.llm_api_key ? 'byok' : 'wallet',
      llm_provider: input.llm_provider, llm_model: input.llm_model,
    }, { templateId: tpl.row.id })
    return { bot, workspace, mcp_servers: mcpServers, warnings }
  })()
}
