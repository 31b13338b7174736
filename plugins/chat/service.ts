import type { Kernel } from '../../src/kernel'
import { badRequest, notFound } from '../../src/http/errors'
import { canAccess, listScope, type Principal } from '../../src/auth/principal'
import { newId } from '../../src/db/ids'
import { nowIso } from '../../src/clock'
import * as workspaces from '../workspaces/service'
import { toCents } from '../wallet/service'
import { attachmentsStore, conversationsStore, messagesStore, type AttachmentInfo, type ConversationRow, type MessageRow, type NewMessage } from './store'
import { LIMITS, type ConversationView, type CreateConversationInput, type MessageView } from './model'
import { resolveChoice } from './providers'

/** Conversations, their messages and files: ownership, pagination, views. */

export function requireConversation(k: Kernel, who: Principal, id: string): ConversationRow {
  const row = conversationsStore(k.db).get(id)
  if (!row || !canAccess(who, row.owner_id, row.workspace_id)) throw notFound('Conversation')
  return row
}

export const conversationView = (r: ConversationRow): ConversationView => ({
  id: r.id, title: r.title, workspace_id: r.workspace_id, provider: r.provider, model: r.model, message_count: r.message_count,
  created_at: r.created_at, updated_at: r.updated_at,
})

const fileUrl = (a: AttachmentInfo) => `/api/chat/conversations/${a.conversation_id}/messages/${a.message_id}/files/${encodeURIComponent(a.filename)}`
export const fileView = (a: AttachmentInfo) => ({
  filename: a.filename, size: a.size, content_type: a.content_type, sha256: a.sha256, created_at: a.created_at, url: fileUrl(a),
})

export function messageView(m: MessageRow, files: AttachmentInfo[] = []): MessageView {
  return {
    id: m.id, conversation_id: m.conversation_id, role: m.role, content: m.content, status: m.status, tokens_used: m.tokens_used,
    cost_cents: toCents(m.cost_micro), tools_called: JSON.parse(m.tools_called), tool_calls: m.tool_calls ? JSON.parse(m.tool_calls) : null,
    tool_call_id: m.tool_call_id, tool_name: m.tool_name, is_error: !!m.is_error, run_id: m.run_id, error_message: m.error_message,
    files: files.map(fileView), created_at: m.created_at,
  }
}

/** Views of messages with their files (one query for the conversation's files). */
function withFiles(k: Kernel, conversationId: string, rows: MessageRow[]): MessageView[] {
  const files = rows.some((r) => r.role === 'tool') ? attachmentsStore(k.db).ofMessages(conversationId) : []
  const byMessage = new Map<string, AttachmentInfo[]>()
  for (const f of files) byMessage.set(f.message_id, [...(byMessage.get(f.message_id) ?? []), f])
  return rows.map((r) => messageView(r, byMessage.get(r.id)))
}

/** The workspace a conversation takes its tools from: the given one (must be reachable) or the caller's first. */
function workspaceFor(k: Kernel, who: Principal, id: string | null | undefined): string | null {
  if (id) return workspaces.requireOwned(k, who, id).id
  return defaultWorkspace(k, who)
}

/** A workspace token's own workspace, else the caller's first (oldest) workspace, else none. */
export function defaultWorkspace(k: Kernel, who: Principal): string | null {
  if (who.workspaceId) return who.workspaceId
  return workspaces.firstWorkspaceId(k, who)
}

export function newMessage(k: Kernel, conversationId: string, role: MessageRow['role'], content: string, extra: Partial<NewMessage> = {}): NewMessage {
  return {
    id: newId('msg'), conversation_id: conversationId, role, content, status: 'completed', tool_calls: null, tool_call_id: null, tool_name: null,
    tool_arguments: null, is_error: 0, tokens_used: 0, cost_micro: 0, tools_called: '[]', run_id: null, error_message: null,
    created_at: nowIso(k.clock), ...extra,
  }
}

export function create(k: Kernel, who: Principal, input: CreateConversationInput): ConversationRow {
  const workspaceId = workspaceFor(k, who, input.workspace_id)
  // Validates the provider now (400 for an unknown one) and pins the model a name like "gpt-4o" implies; a model
  // without a provider runs on the caller's default provider.
  const choice = input.provider || input.model ? resolveChoice(k, who.userId, { provider: input.provider ?? null, model: input.model ?? null }, { strictKey: false }) : null
  const now = nowIso(k.clock)
  const title = input.title?.trim() || null
  const row: ConversationRow = {
    id: newId('conv'), owner_id: who.userId, workspace_id: workspaceId, title, provider: choice?.provider ?? null,
    model: choice?.model ?? (input.model || null), system_prompt: input.system_prompt?.trim() || null, message_count: 0, created_at: now, updated_at: now,
  }
  k.db.transaction(() => {
    conversationsStore(k.db).insert(row)
    // The system prompt is part of the history (role "system"), like every other message.
    if (row.system_prompt) {
      messagesStore(k.db).insert(newMessage(k, row.id, 'system', row.system_prompt))
      row.message_count = 1
      conversationsStore(k.db).touch(row.id, 1, now)
    }
  })()
  return row
}

export function rename(k: Kernel, who: Principal, id: string, title: string): ConversationRow {
  const row = requireConversation(k, who, id)
  const clean = title.trim()
  if (!clean) throw badRequest('title must not be blank', { title: 'must not be blank' })
  const now = nowIso(k.clock)
  conversationsStore(k.db).setTitle(row.id, clean, now)
  return { ...row, title: clean, updated_at: now }
}

/** Deletes the conversation; its messages and files go with it (ON DELETE CASCADE). */
export function remove(k: Kernel, who: Principal, id: string) {
  const row = requireConversation(k, who, id)
  conversationsStore(k.db).remove(row.id)
}

interface Page { limit?: number; offset?: number; cursor?: string }

const encodeCursor = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
function decodeCursor<T>(c: string): T {
  try { return JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as T } catch { throw badRequest('cursor is not one we issued', { cursor: 'invalid' }) }
}

export function list(k: Kernel, who: Principal, q: Page) {
  const { ownerId, workspaceId } = listScope(who)
  const limit = q.limit ?? LIMITS.pageDefault
  const offset = q.offset ?? 0
  const store = conversationsStore(k.db)
  let rows: ConversationRow[]
  if (q.cursor) {
    const c = decodeCursor<{ a: number }>(q.cursor)
    if (typeof c?.a !== 'number') throw badRequest('cursor is not one we issued', { cursor: 'invalid' })
    rows = store.listAfter(ownerId, workspaceId, c.a, limit + 1)
  } else rows = store.list(ownerId, workspaceId, limit + 1, offset)
  const more = rows.length > limit
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  return {
    conversations: page.map(conversationView), total: store.count(ownerId, workspaceId), limit, offset: q.cursor ? 0 : offset,
    next_cursor: more && last ? encodeCursor({ a: last.activity }) : null,
  }
}

export function detail(k: Kernel, who: Principal, id: string) {
  const row = requireConversation(k, who, id)
  const latest = messagesStore(k.db).latest(row.id, LIMITS.snapshot)
  return {
    conversation: { ...conversationView(row), system_prompt: row.system_prompt },
    messages: withFiles(k, row.id, latest),
    has_more: row.message_count > latest.length,
  }
}

/** Chronological history, paginated by offset or by cursor (the id of the last message seen). */
export function messages(k: Kernel, who: Principal, id: string, q: Page) {
  const row = requireConversation(k, who, id)
  const store = messagesStore(k.db)
  const limit = q.limit ?? LIMITS.pageDefault
  let rows: MessageRow[]
  if (q.cursor) {
    const seq = store.seqOf(row.id, q.cursor)
    if (seq === null) throw badRequest('cursor is not a message of this conversation', { cursor: 'unknown message id' })
    rows = store.after(row.id, seq, limit + 1)
  } else rows = store.page(row.id, limit + 1, q.offset ?? 0)
  const more = rows.length > limit
  const page = rows.slice(0, limit)
  return {
    messages: withFiles(k, row.id, page), total: store.count(row.id), limit, offset: q.cursor ? 0 : q.offset ?? 0,
    next_cursor: more && page.length ? page[page.length - 1].id : null,
  }
}

function requireMessage(k: Kernel, who: Principal, conversationId: string, messageId: string): MessageRow {
  const conv = requireConversation(k, who, conversationId)
  const m = messagesStore(k.db).get(messageId)
  if (!m || m.conversation_id !== conv.id) throw notFound('Message')
  return m
}

export function files(k: Kernel, who: Principal, conversationId: string, messageId: string) {
  const m = requireMessage(k, who, conversationId, messageId)
  return { message_id: m.id, files: attachmentsStore(k.db).ofMessage(m.id).map(fileView) }
}

/** Types a browser could render as a page; served as plain bytes (they are downloads anyway). */
const ACTIVE_TYPES = /^(text\/html|application\/xhtml|image\/svg|text\/xml|application\/xml|application\/javascript|text\/javascript)/i

/** A download: Content-Disposition attachment, nosniff, and never a type a browser would run. */
export function download(k: Kernel, who: Principal, conversationId: string, messageId: string, filename: string): Response {
  const m = requireMessage(k, who, conversationId, messageId)
  const f = attachmentsStore(k.db).file(m.id, filename)
  if (!f) throw notFound('File')
  const type = ACTIVE_TYPES.test(f.content_type) ? 'application/octet-stream' : f.content_type
  const ascii = f.filename.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return new Response(new Uint8Array(f.data) as unknown as BodyInit, {
    headers: {
      'content-type': type,
      'content-length': String(f.size),
      'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(f.filename)}`,
      'x-content-type-options': 'nosniff',
      'cache-control': 'private, no-store',
      'x-file-sha256': f.sha256,
    },
  })
}

/**
 * The recorded tool calls of a conversation, in order (for workflows' extract-from-conversation): each tool
 * message with the assistant message that asked for it. Only the owner's conversations; 404 otherwise.
 */
export function listToolCalls(k: Kernel, ownerId: string, conversationId: string) {
  const conv = conversationsStore(k.db).get(conversationId)
  if (!conv || conv.owner_id !== ownerId) throw notFound('Conversation')
  const rows = messagesStore(k.db).all(conv.id)
  const askedBy = new Map<string, { messageId: string; arguments: unknown }>()
  const out: Array<{ name: string; arguments: unknown; result: string; is_error: boolean; tool_call_id: string; assistant_message_id: string | null; tool_message_id: string; created_at: string }> = []
  for (const r of rows) {
    if (r.role === 'assistant' && r.tool_calls) {
      for (const c of JSON.parse(r.tool_calls) as Array<{ id: string; arguments: unknown }>) askedBy.set(c.id, { messageId: r.id, arguments: c.arguments })
    } else if (r.role === 'tool' && r.tool_call_id) {
      const a = askedBy.get(r.tool_call_id)
      out.push({
        name: r.tool_name ?? '', arguments: r.tool_arguments ? JSON.parse(r.tool_arguments) : a?.arguments ?? {}, result: r.content, is_error: !!r.is_error,
        tool_call_id: r.tool_call_id, assistant_message_id: a?.messageId ?? null, tool_message_id: r.id, created_at: r.created_at,
      })
    }
  }
  return out
}

/**
 * A turn that ended without its run's onFinish: lost to a restart (the run service marks its run `interrupted`
 * afterwards), or refused by the run service after the user message was saved. The conversation gets an error
 * message saying so, once per run.
 */
export function recordFailedTurn(k: Kernel, conversationId: string, runId: string | null, error: string) {
  k.db.transaction(() => {
    if (!conversationsStore(k.db).get(conversationId) || (runId && messagesStore(k.db).hasRun(runId))) return
    messagesStore(k.db).insert(newMessage(k, conversationId, 'assistant', '', { status: 'error', error_message: error, run_id: runId }))
    conversationsStore(k.db).touch(conversationId, 1, nowIso(k.clock))
  })()
}

export { continueConversation, type ExternalTurn } from './external-turn'
