/** A bot with its secrets opened, for the engine and the channels plugin. Never returned by the API. */
import type { Kernel } from '../../src/kernel'
import { botStore, type BotRow } from './store'

export interface LlmConfig { temperature?: number; base_url?: string }

export interface BotRecord extends Omit<BotRow, 'platform_config' | 'llm_api_key' | 'llm_config' | 'workflow_json' | 'enable_rag' | 'workflow_enabled'> {
  /** Decrypted platform credentials ({} when none). */
  platform_config: Record<string, unknown>
  /** Decrypted BYOK key, or null. */
  llm_api_key: string | null
  llm_config: LlmConfig
  workflow_json: unknown
  enable_rag: boolean
  workflow_enabled: boolean
}

export function openBot(k: Kernel, r: BotRow): BotRecord {
  return {
    ...r,
    platform_config: k.secrets.openJson<Record<string, unknown>>(r.platform_config) ?? {},
    llm_api_key: r.llm_api_key ? k.secrets.open(r.llm_api_key) : null,
    llm_config: JSON.parse(r.llm_config || '{}'),
    workflow_json: r.workflow_json ? JSON.parse(r.workflow_json) : null,
    enable_rag: !!r.enable_rag,
    workflow_enabled: !!r.workflow_enabled,
  }
}

/**
 * The bot `id` with decrypted platform_config and llm_api_key, or null when it does not exist.
 * For the channels plugin (webhook verification, replies) and the engine. No ownership check:
 * callers either come from a platform webhook (verified by the bot's own secrets) or check access first.
 */
export function loadBot(k: Kernel, id: string): BotRecord | null {
  const row = botStore(k.db).get(id)
  return row ? openBot(k, row) : null
}
