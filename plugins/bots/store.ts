/** SQL for bots and their conversations and messages (prepared statements; rows <-> objects). */
import type { Kernel } from '../../src/kernel'

export type BotPlatform = 'telegram' | 'discord' | 'whatsapp' | 'slack' | 'custom'
export type BotStatus = 'draft' | 'active' | 'paused'
export type BillingMode = 'wallet' | 'byok' | 'plan_quota'

export interface BotRow {
  id: string; owner_id: string; workspace_id: string; template_id: string | null
  name: string; slug: string; description: string | null
  platform: BotPlatform; platform_config: string | null; status: BotStatus
  system_prompt: string; llm_provider: string; llm_model: string; llm_api_key: string | null; llm_config: string
  billing_mode: BillingMode; max_loop_iterations: number; max_tokens_per_turn: number; timeout_ms: number
  conversation_max_messages: number; conversation_ttl_hours: number; enable_rag: number
  welcome_message: string | null; fallback_message: string | null
  spending_cap_micro: number | null; total_cost_micro: number
  workflow_json: string | null; workflow_enabled: number
  last_active_at: string | null; created_at: string; updated_at: string
  /** JSON array: the tool allow-list (skills); null = every workspace tool. */
  tools: string | null
}

export interface ConversationRow {
  id: string; bot_id: string; platform_chat_id: string; platform_user_id: string; platform_user_name: string | null
  source: 'platform' | 'test'; status: 'active' | 'expired'; message_count: number
  tokens_input: number; tokens_output: number; total_cost_micro: number; started_at: string; last_message_at: string
}

export interface MessageRow {
  id: string; seq: number; conversation_id: string; bot_id: string; role: 'user' | 'assistant'; kind: 'message' | 'welcome' | 'fallback'
  content: string; reply_to: string | null; platform_message_id: string | null; tool_calls: string | null; tool_count: number
  tokens_input: number; tokens_output: number; cost_micro: number; latency_ms: number | null; loop_iterations: number | null
  error: string | null; stop_reason: string | null; billing_mode: string | null; created_at: string
}

const BOT_COLUMNS = [
  'id', 'owner_id', 'workspace_id', 'template_id', 'name', 'slug', 'description', 'platform', 'platform_config', 'status',
  'system_prompt', 'llm_provider', 'llm_model', 'llm_api_key', 'llm_config', 'billing_mode', 'max_loop_iterations',
  'max_tokens_per_turn', 'timeout_ms', 'conversation_max_messages', 'conversation_ttl_hours', 'enable_rag',
  'welcome_message', 'fallback_message', 'spending_cap_micro', 'total_cost_micro', 'workflow_json', 'workflow_enabled',
  'last_active_at', 'created_at', 'updated_at', 'tools',
] as const satisfies readonly (keyof BotRow)[]

/** Columns PATCH may change (everything else is identity, lifecycle or bookkeeping). */
export const UPDATABLE_COLUMNS = [
  'name', 'description', 'system_prompt', 'llm_provider', 'llm_model', 'llm_config', 'llm_api_key', 'platform_config',
  'billing_mode', 'max_loop_iterations', 'max_tokens_per_turn', 'timeout_ms', 'conversation_max_messages',
  'conversation_ttl_hours', 'enable_rag', 'welcome_message', 'fallback_message', 'spending_cap_micro', 'workflow_json', 'workflow_enabled', 'tools',
] as const satisfies readonly (keyof BotRow)[]
export type UpdatableColumn = (typeof UPDATABLE_COLUMNS)[number]

const MESSAGE_COLUMNS = [
  'id', 'seq', 'conversation_id', 'bot_id', 'role', 'kind', 'content', 'reply_to', 'platform_message_id', 'tool_calls', 'tool_count',
  'tokens_input', 'tokens_output', 'cost_micro', 'latency_ms', 'loop_iterations', 'error', 'stop_reason', 'billing_mode', 'created_at',
] as const satisfies readonly (keyof MessageRow)[]

export function botStore(k: Kernel) {
  const db = k.db
  return {
    get: (id: string) => db.query<BotRow, [string]>('SELECT * FROM bots WHERE id = ?').get(id),
    insert(r: BotRow) {
      db.query(`INSERT INTO bots (${BOT_COLUMNS.join(', ')}) VALUES (${BOT_COLUMNS.map(() => '?').join(', ')})`)
        .run(...BOT_COLUMNS.map((c) => r[c]))
    },
    slugTaken: (ownerId: string, slug: string) => !!db.query('SELECT 1 FROM bots WHERE owner_id = ? AND slug = ?').get(ownerId, slug),
    /** Bots in scope with their conversation counts (one grouped query, no N+1). */
    list: (ownerId: string | null, workspaceId: string | null) =>
      db.query<BotRow & { conversation_count: number }, [string | null, string | null]>(
        `SELECT b.*, (SELECT count(*) FROM bot_conversations c WHERE c.bot_id = b.id) AS conversation_count
         FROM bots b WHERE (?1 IS NULL OR b.owner_id = ?1) AND (?2 IS NULL OR b.workspace_id = ?2) ORDER BY b.created_at DESC, b.id`,
      ).all(ownerId, workspaceId),
    conversationCount: (botId: string) => db.query<{ n: number }, [string]>('SELECT count(*) AS n FROM bot_conversations WHERE bot_id = ?').get(botId)!.n,
    update(id: string, patch: Partial<Pick<BotRow, UpdatableColumn>>, updatedAt: string) {
      const cols = (Object.keys(patch) as UpdatableColumn[]).filter((c) => (UPDATABLE_COLUMNS as readonly string[]).includes(c))
      if (!cols.length) return db.query('UPDATE bots SET updated_at = ? WHERE id = ?').run(updatedAt, id)
      db.query(`UPDATE bots SET ${cols.map((c) => `${c} = ?`).join(', ')}, updated_at = ? WHERE id = ?`)
        .run(...cols.map((c) => patch[c] as string | number | null), updatedAt, id)
    },
    setStatus: (id: string, status: BotStatus, updatedAt: string) => db.query('UPDATE bots SET status = ?, updated_at = ? WHERE id = ?').run(status, updatedAt, id),
    /** Cascades to conversations and messages (and with them the analytics computed from them). */
    remove: (id: string) => db.query('DELETE FROM bots WHERE id = ?').run(id),
    addCost: (id: string, micro: number, at: string) => db.query('UPDATE bots SET total_cost_micro = total_cost_micro + ?, last_active_at = ? WHERE id = ?').run(micro, at, id),
  }
}

export function conversationStore(k: Kernel) {
  const db = k.db
  return {
    get: (botId: string, id: string) => db.query<ConversationRow, [string, string]>('SELECT * FROM bot_conversations WHERE id = ? AND bot_id = ?').get(id, botId),
    /** The latest still-active conversation of this chat and user. */
    current: (botId: string, chatId: string, userId: string) => db.query<ConversationRow, [string, string, string]>(
      `SELECT * FROM bot_conversations WHERE bot_id = ? AND platform_chat_id = ? AND platform_user_id = ? AND status = 'active'
       ORDER BY last_message_at DESC LIMIT 1`,
    ).get(botId, chatId, userId),
    userSeen: (botId: string, userId: string) => !!db.query('SELECT 1 FROM bot_conversations WHERE bot_id = ? AND platform_user_id = ? LIMIT 1').get(botId, userId),
    insert(c: ConversationRow) {
      db.query(`INSERT INTO bot_conversations (id, bot_id, platform_chat_id, platform_user_id, platform_user_name, source, status, message_count,
        tokens_input, tokens_output, total_cost_micro, started_at, last_message_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(c.id, c.bot_id, c.platform_chat_id, c.platform_user_id, c.platform_user_name, c.source, c.status, c.message_count,
          c.tokens_input, c.tokens_output, c.total_cost_micro, c.started_at, c.last_message_at)
    },
    expire: (id: string) => db.query("UPDATE bot_conversations SET status = 'expired' WHERE id = ?").run(id),
    addActivity: (id: string, d: { messages: number; tokensIn: number; tokensOut: number; micro: number; at: string; userName: string | null }) =>
      db.query(`UPDATE bot_conversations SET message_count = message_count + ?, tokens_input = tokens_input + ?, tokens_output = tokens_output + ?,
        total_cost_micro = total_cost_micro + ?, last_message_at = ?, platform_user_name = coalesce(?, platform_user_name) WHERE id = ?`)
        .run(d.messages, d.tokensIn, d.tokensOut, d.micro, d.at, d.userName, id),
    list: (botId: string, limit: number, offset: number) => db.query<ConversationRow, [string, number, number]>(
      'SELECT * FROM bot_conversations WHERE bot_id = ? ORDER BY last_message_at DESC, id DESC LIMIT ? OFFSET ?',
    ).all(botId, limit, offset),
    count: (botId: string) => db.query<{ n: number }, [string]>('SELECT count(*) AS n FROM bot_conversations WHERE bot_id = ?').get(botId)!.n,
  }
}

export function messageStore(k: Kernel) {
  const db = k.db
  return {
    insert(m: MessageRow) {
      db.query(`INSERT INTO bot_messages (${MESSAGE_COLUMNS.join(', ')}) VALUES (${MESSAGE_COLUMNS.map(() => '?').join(', ')})`)
        .run(...MESSAGE_COLUMNS.map((c) => m[c]))
    },
    nextSeq: (conversationId: string) => (db.query<{ s: number | null }, [string]>('SELECT max(seq) AS s FROM bot_messages WHERE conversation_id = ?').get(conversationId)?.s ?? 0) + 1,
    /** The last `limit` messages that belong in the model's history, oldest first (fallbacks are not history). */
    history: (conversationId: string, limit: number) => db.query<Pick<MessageRow, 'role' | 'content'>, [string, number]>(
      `SELECT role, content FROM (SELECT role, content, seq FROM bot_messages WHERE conversation_id = ? AND kind != 'fallback'
       ORDER BY seq DESC LIMIT ?) ORDER BY seq`,
    ).all(conversationId, limit),
    /** The last `limit` messages of a conversation, oldest first. */
    latest: (conversationId: string, limit: number) => db.query<MessageRow, [string, number]>(
      'SELECT * FROM (SELECT * FROM bot_messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq',
    ).all(conversationId, limit),
    count: (conversationId: string) => db.query<{ n: number }, [string]>('SELECT count(*) AS n FROM bot_messages WHERE conversation_id = ?').get(conversationId)!.n,
    /** Tokens an owner's plan_quota bots used in a month (YYYY-MM). */
    quotaUsed: (ownerId: string, month: string) =>
      db.query<{ tokens: number }, [string, string]>('SELECT tokens FROM bot_quota_usage WHERE owner_id = ? AND month = ?').get(ownerId, month)?.tokens ?? 0,
    addQuotaUsage: (ownerId: string, month: string, tokens: number) =>
      db.query('INSERT INTO bot_quota_usage (owner_id, month, tokens) VALUES (?1, ?2, ?3) ON CONFLICT (owner_id, month) DO UPDATE SET tokens = tokens + ?3')
        .run(ownerId, month, tokens),
  }
}
