import type { Db } from '../../src/db/open'
import { perDb } from '../../src/db/per-db'

/** SQL for chat_conversations, chat_messages, chat_attachments and chat_settings. The only place with chat SQL. */

export interface ConversationRow {
  id: string; owner_id: string; workspace_id: string | null; title: string | null; provider: string | null; model: string | null
  system_prompt: string | null; message_count: number; activity?: number; created_at: string; updated_at: string
}

export type MessageRole = 'user' | 'assistant' | 'tool' | 'system'
export type MessageStatus = 'completed' | 'error' | 'cancelled'

export interface MessageRow {
  seq: number; id: string; conversation_id: string; role: MessageRole; content: string; status: MessageStatus
  /** assistant: JSON [{ id, name, arguments }] when the turn asked for tools. */
  tool_calls: string | null
  /** tool: the call this result answers, its tool and arguments (JSON). */
  tool_call_id: string | null; tool_name: string | null; tool_arguments: string | null; is_error: number
  tokens_used: number; cost_micro: number; tools_called: string; run_id: string | null; error_message: string | null; created_at: string
}

export type NewMessage = Omit<MessageRow, 'seq'>

/** What the history window reads of a message. */
export type WindowRow = Pick<MessageRow, 'role' | 'content' | 'status' | 'tool_calls' | 'tool_call_id' | 'tool_name' | 'is_error'>

export interface AttachmentRow {
  id: string; message_id: string; conversation_id: string; filename: string; content_type: string; size: number; sha256: string
  data: Uint8Array; created_at: string
}

export type AttachmentInfo = Omit<AttachmentRow, 'data'>

export interface SettingsRow { owner_id: string; default_provider: string | null; default_model: string | null; updated_at: string }

const MSG_COLS = ['id', 'conversation_id', 'role', 'content', 'status', 'tool_calls', 'tool_call_id', 'tool_name', 'tool_arguments', 'is_error',
  'tokens_used', 'cost_micro', 'tools_called', 'run_id', 'error_message', 'created_at'] as const
const INSERT_MSG = `INSERT INTO chat_messages (${MSG_COLS.join(', ')}) VALUES (${MSG_COLS.map(() => '?').join(', ')})`
const NEXT_ACTIVITY = '(SELECT coalesce(max(activity), 0) + 1 FROM chat_conversations)'
const INFO_COLS = 'id, message_id, conversation_id, filename, content_type, size, sha256, created_at'

const conversationsStoreOf = (db: Db) => ({
  insert: (r: ConversationRow) => db.query(
    `INSERT INTO chat_conversations (id, owner_id, workspace_id, title, provider, model, system_prompt, message_count, activity, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ${NEXT_ACTIVITY}, ?, ?)`,
  ).run(r.id, r.owner_id, r.workspace_id, r.title, r.provider, r.model, r.system_prompt, r.message_count, r.created_at, r.updated_at),
  get: (id: string) => db.query<ConversationRow, [string]>('SELECT * FROM chat_conversations WHERE id = ?').get(id),
  /** Most recently updated first; owner null = every owner (admin tokens). */
  list: (ownerId: string | null, workspaceId: string | null, limit: number, offset: number) => db.query<ConversationRow, [string | null, string | null, number, number]>(
    `SELECT * FROM chat_conversations WHERE (?1 IS NULL OR owner_id = ?1) AND (?2 IS NULL OR workspace_id = ?2)
     ORDER BY activity DESC LIMIT ?3 OFFSET ?4`,
  ).all(ownerId, workspaceId, limit, offset),
  /** Keyset page: rows after the cursor (an activity value) in list order. */
  listAfter: (ownerId: string | null, workspaceId: string | null, activity: number, limit: number) => db.query<ConversationRow, [string | null, string | null, number, number]>(
    `SELECT * FROM chat_conversations WHERE (?1 IS NULL OR owner_id = ?1) AND (?2 IS NULL OR workspace_id = ?2)
     AND activity < ?3 ORDER BY activity DESC LIMIT ?4`,
  ).all(ownerId, workspaceId, activity, limit),
  count: (ownerId: string | null, workspaceId: string | null) => db.query<{ n: number }, [string | null, string | null]>(
    'SELECT count(*) AS n FROM chat_conversations WHERE (?1 IS NULL OR owner_id = ?1) AND (?2 IS NULL OR workspace_id = ?2)',
  ).get(ownerId, workspaceId)!.n,
  setTitle: (id: string, title: string, at: string) => db.query(`UPDATE chat_conversations SET title = ?, updated_at = ?, activity = ${NEXT_ACTIVITY} WHERE id = ?`).run(title, at, id).changes,
  /** Sets a generated title only while none is set (a user's rename wins over a late generated one). */
  setTitleIfEmpty: (id: string, title: string) => db.query('UPDATE chat_conversations SET title = ? WHERE id = ? AND (title IS NULL OR title = \'\')').run(title, id).changes,
  /** Replaces a placeholder title (first words) with the generated one, unless the user renamed it meanwhile. */
  replaceTitle: (id: string, from: string, to: string) => db.query('UPDATE chat_conversations SET title = ? WHERE id = ? AND title = ?').run(to, id, from).changes,
  touch: (id: string, added: number, at: string) =>
    db.query(`UPDATE chat_conversations SET message_count = message_count + ?, updated_at = ?, activity = ${NEXT_ACTIVITY} WHERE id = ?`).run(added, at, id),
  remove: (id: string) => db.query('DELETE FROM chat_conversations WHERE id = ?').run(id).changes,
})

const messagesStoreOf = (db: Db) => ({
  insert: (m: NewMessage) => db.query(INSERT_MSG).run(...MSG_COLS.map((c) => m[c])),
  get: (id: string) => db.query<MessageRow, [string]>('SELECT * FROM chat_messages WHERE id = ?').get(id),
  /** Chronological page. */
  page: (conversationId: string, limit: number, offset: number) => db.query<MessageRow, [string, number, number]>(
    'SELECT * FROM chat_messages WHERE conversation_id = ? ORDER BY seq LIMIT ? OFFSET ?',
  ).all(conversationId, limit, offset),
  /** Chronological, after a message's seq (cursor pagination). */
  after: (conversationId: string, seq: number, limit: number) => db.query<MessageRow, [string, number, number]>(
    'SELECT * FROM chat_messages WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?',
  ).all(conversationId, seq, limit),
  /** The newest `limit` messages, returned oldest first. */
  latest: (conversationId: string, limit: number) => db.query<MessageRow, [string, number]>(
    'SELECT * FROM (SELECT * FROM chat_messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq',
  ).all(conversationId, limit),
  /** The newest `limit` messages other than system ones, oldest first (the history window's candidates). */
  recent: (conversationId: string, limit: number) => db.query<MessageRow, [string, number]>(
    "SELECT * FROM (SELECT * FROM chat_messages WHERE conversation_id = ? AND role != 'system' ORDER BY seq DESC LIMIT ?) ORDER BY seq",
  ).all(conversationId, limit),
  /** The history window's candidates with only the columns the window reads (a fifth of the row: reading all 17 cost ~0.1 ms a turn). */
  windowRows: (conversationId: string, limit: number) => db.query<WindowRow, [string, number]>(
    "SELECT role, content, status, tool_calls, tool_call_id, tool_name, is_error FROM chat_messages WHERE conversation_id = ? AND role != 'system' ORDER BY seq DESC LIMIT ?",
  ).all(conversationId, limit).reverse(),
  windowSystem: (conversationId: string) => db.query<WindowRow, [string]>(
    "SELECT role, content, status, tool_calls, tool_call_id, tool_name, is_error FROM chat_messages WHERE conversation_id = ? AND role = 'system' ORDER BY seq",
  ).all(conversationId),
  all: (conversationId: string) => db.query<MessageRow, [string]>('SELECT * FROM chat_messages WHERE conversation_id = ? ORDER BY seq').all(conversationId),
  count: (conversationId: string) => db.query<{ n: number }, [string]>('SELECT count(*) AS n FROM chat_messages WHERE conversation_id = ?').get(conversationId)!.n,
  seqOf: (conversationId: string, id: string) => db.query<{ seq: number }, [string, string]>(
    'SELECT seq FROM chat_messages WHERE conversation_id = ? AND id = ?',
  ).get(conversationId, id)?.seq ?? null,
  hasRun: (runId: string) => !!db.query<{ one: number }, [string]>('SELECT 1 AS one FROM chat_messages WHERE run_id = ? LIMIT 1').get(runId),
  /** Names of tools called earlier in the conversation (they stay offered). */
  toolNames: (conversationId: string) => db.query<{ tool_name: string }, [string]>(
    "SELECT DISTINCT tool_name FROM chat_messages WHERE conversation_id = ? AND role = 'tool' AND tool_name IS NOT NULL",
  ).all(conversationId).map((r) => r.tool_name),
  toolMessages: (conversationId: string) => db.query<MessageRow, [string]>(
    "SELECT * FROM chat_messages WHERE conversation_id = ? AND role = 'tool' ORDER BY seq",
  ).all(conversationId),
})

const attachmentsStoreOf = (db: Db) => ({
  insert: (a: AttachmentRow) => db.query(
    `INSERT INTO chat_attachments (id, message_id, conversation_id, filename, content_type, size, sha256, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(a.id, a.message_id, a.conversation_id, a.filename, a.content_type, a.size, a.sha256, a.data, a.created_at),
  ofMessage: (messageId: string) => db.query<AttachmentInfo, [string]>(`SELECT ${INFO_COLS} FROM chat_attachments WHERE message_id = ? ORDER BY created_at, filename`).all(messageId),
  ofMessages: (conversationId: string) => db.query<AttachmentInfo, [string]>(`SELECT ${INFO_COLS} FROM chat_attachments WHERE conversation_id = ? ORDER BY created_at, filename`).all(conversationId),
  file: (messageId: string, filename: string) => db.query<AttachmentRow, [string, string]>('SELECT * FROM chat_attachments WHERE message_id = ? AND filename = ?').get(messageId, filename),
})

const settingsStoreOf = (db: Db) => ({
  get: (ownerId: string) => db.query<SettingsRow, [string]>('SELECT * FROM chat_settings WHERE owner_id = ?').get(ownerId),
  put: (r: SettingsRow) => db.query(
    `INSERT INTO chat_settings (owner_id, default_provider, default_model, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (owner_id) DO UPDATE SET default_provider = excluded.default_provider, default_model = excluded.default_model, updated_at = excluded.updated_at`,
  ).run(r.owner_id, r.default_provider, r.default_model, r.updated_at),
})

export const conversationsStore = perDb(conversationsStoreOf)
export const messagesStore = perDb(messagesStoreOf)
export const attachmentsStore = perDb(attachmentsStoreOf)
export const settingsStore = perDb(settingsStoreOf)
