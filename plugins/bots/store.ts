/** SQL for bots, their conversations, messages, templates and analytics (prepared statements; rows <-> objects). Stores take the Db. */
import type { Db } from '../../src/db/open'
import { perDb } from '../../src/db/per-db'

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

function botStoreOf(db: Db) {
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

function conversationStoreOf(db: Db) {
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

function messageStoreOf(db: Db) {
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

/** User and system bot templates. */
export interface TemplateRow {
  id: string; owner_id: string | null; is_system: number; name: string; description: string; category: string; system_prompt: string
  welcome_message: string | null; fallback_message: string | null; config_fields: string; suggested_mcp_servers: string
  created_at: string; updated_at: string
}

const templateStoreOf = (db: Db) => ({
  get: (id: string) => db.query<TemplateRow, [string]>('SELECT * FROM bot_templates WHERE id = ?').get(id),
  /** System templates plus `owner`'s (`*`: everyone's), optionally of one category. */
  list: (owner: string | null, category: string | null, limit: number) => db.query<TemplateRow, [string | null, string | null, number]>(
    `SELECT * FROM bot_templates WHERE (is_system = 1 OR (?1 IS NOT NULL AND (?1 = '*' OR owner_id = ?1)))
     AND (?2 IS NULL OR category = ?2) ORDER BY is_system DESC, name, id LIMIT ?3`,
  ).all(owner, category, limit),
  insert: (r: TemplateRow) => db.query(`INSERT INTO bot_templates (id, owner_id, is_system, name, description, category, system_prompt, welcome_message, fallback_message,
    config_fields, suggested_mcp_servers, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .run(r.id, r.owner_id, r.is_system, r.name, r.description, r.category, r.system_prompt, r.welcome_message,
      r.fallback_message, r.config_fields, r.suggested_mcp_servers, r.created_at, r.updated_at),
  update: (id: string, r: Pick<TemplateRow, 'name' | 'description' | 'category' | 'system_prompt' | 'welcome_message' | 'fallback_message' | 'config_fields' | 'suggested_mcp_servers' | 'updated_at'>) =>
    db.query(`UPDATE bot_templates SET name = ?, description = ?, category = ?, system_prompt = ?, welcome_message = ?, fallback_message = ?,
      config_fields = ?, suggested_mcp_servers = ?, updated_at = ? WHERE id = ?`)
      .run(r.name, r.description, r.category, r.system_prompt, r.welcome_message, r.fallback_message, r.config_fields, r.suggested_mcp_servers, r.updated_at, id),
  remove: (id: string) => db.query('DELETE FROM bot_templates WHERE id = ?').run(id),
})

/** Per-day aggregates of a bot's messages (analytics). */
export interface DayAgg {
  day: string; messages: number; received: number; sent: number; conversations: number; tokens_in: number; tokens_out: number
  cost: number; errors: number; latency_sum: number; latency_n: number
}

/** An answer counts as resolved when the agent used a tool and the run succeeded (insights). */
const RESOLVED = `(a.tool_count > 0 AND a.kind = 'message')`

/** Analytics and insights over bot_messages and bot_conversations (bounds are ISO times, end exclusive). */
const analyticsStoreOf = (db: Db) => ({
  daily: (botId: string, start: string, end: string) => db.query<DayAgg, [string, string, string]>(
    `SELECT substr(created_at, 1, 10) AS day, count(*) AS messages,
       coalesce(sum(role = 'user'), 0) AS received, coalesce(sum(role = 'assistant'), 0) AS sent,
       count(DISTINCT conversation_id) AS conversations,
       coalesce(sum(tokens_input), 0) AS tokens_in, coalesce(sum(tokens_output), 0) AS tokens_out, coalesce(sum(cost_micro), 0) AS cost,
       coalesce(sum(kind = 'fallback'), 0) AS errors,
       coalesce(sum(CASE WHEN role = 'assistant' AND kind != 'welcome' THEN latency_ms END), 0) AS latency_sum,
       count(CASE WHEN role = 'assistant' AND kind != 'welcome' THEN latency_ms END) AS latency_n
     FROM bot_messages WHERE bot_id = ? AND created_at >= ? AND created_at < ? GROUP BY day`,
  ).all(botId, start, end),
  started: (botId: string, start: string, end: string) => db.query<{ day: string; n: number }, [string, string, string]>(
    `SELECT substr(started_at, 1, 10) AS day, count(*) AS n FROM bot_conversations WHERE bot_id = ? AND started_at >= ? AND started_at < ? GROUP BY day`,
  ).all(botId, start, end),
  stops: (botId: string, start: string, end: string) => db.query<{ reason: string; n: number }, [string, string, string]>(
    `SELECT stop_reason AS reason, count(*) AS n FROM bot_messages WHERE bot_id = ? AND kind = 'fallback' AND created_at >= ? AND created_at < ? GROUP BY stop_reason`,
  ).all(botId, start, end),
  /** Conversations active in the range: started before its end, last message after its start. */
  conversations: (botId: string, start: string, end: string) => db.query<{ conversations: number; users: number }, [string, string, string]>(
    `SELECT count(*) AS conversations, count(DISTINCT platform_user_id) AS users
     FROM bot_conversations WHERE bot_id = ?1 AND started_at < ?3 AND last_message_at >= ?2`,
  ).get(botId, start, end)!,
  topTools: (botId: string, start: string, end: string) => db.query<{ tool: string; calls: number; failures: number; avg_latency_ms: number | null }, [string, string, string]>(
    `SELECT json_extract(j.value, '$.tool') AS tool, count(*) AS calls,
       coalesce(sum(json_extract(j.value, '$.success') = 0), 0) AS failures, avg(json_extract(j.value, '$.latency_ms')) AS avg_latency_ms
     FROM bot_messages m, json_each(m.tool_calls) j
     WHERE m.bot_id = ? AND m.created_at >= ? AND m.created_at < ? AND m.role = 'assistant' AND m.tool_count > 0
     GROUP BY tool ORDER BY calls DESC, tool LIMIT 10`,
  ).all(botId, start, end),
  /** A conversation silent since before `cutoff` counts as expired even before the next message marks it. */
  byStatus: (cutoff: string, botId: string, start: string, end: string) => db.query<{ status: string; n: number }, [string, string, string, string]>(
    `SELECT CASE WHEN status = 'expired' OR last_message_at <= ? THEN 'expired' ELSE 'active' END AS status, count(*) AS n
     FROM bot_conversations WHERE bot_id = ? AND started_at >= ? AND started_at < ? GROUP BY 1`,
  ).all(cutoff, botId, start, end),
  insightTotals: (botId: string) => db.query<{ total: number; answered: number }, [string]>(
    `SELECT count(*) AS total, coalesce(sum(${RESOLVED}), 0) AS answered FROM bot_messages a WHERE a.bot_id = ? AND a.role = 'assistant' AND a.kind != 'welcome'`,
  ).get(botId)!,
  unanswered: (botId: string, limit: number) => db.query<{ question: string | null; bot_response: string; created_at: string; conversation_id: string }, [string, number]>(
    `SELECT u.content AS question, a.content AS bot_response, a.created_at, a.conversation_id
     FROM bot_messages a LEFT JOIN bot_messages u ON u.id = a.reply_to
     WHERE a.bot_id = ? AND a.role = 'assistant' AND a.kind != 'welcome' AND NOT ${RESOLVED}
     ORDER BY a.created_at DESC, a.seq DESC LIMIT ?`,
  ).all(botId, limit),
})

export const templateStore = perDb(templateStoreOf)
export const analyticsStore = perDb(analyticsStoreOf)
export const botStore = perDb(botStoreOf)
export const conversationStore = perDb(conversationStoreOf)
export const messageStore = perDb(messageStoreOf)
