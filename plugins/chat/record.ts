import type { Kernel } from '../../src/kernel'
import type { Collected } from '../../src/agent/run'
import type { ToolCall } from '../../src/agent/types'
import { nowIso } from '../../src/clock'
import { newId } from '../../src/db/ids'
import { attachmentsStore, conversationsStore, messagesStore, type MessageRow, type NewMessage } from './store'
import { messageView, newMessage } from './service'
import { ATTACHMENT_REF, type PendingFile } from './tool-set'
import type { MessageView } from './model'

/**
 * Records a finished turn (inside the run's final transaction, from the run service's onFinish): the assistant
 * messages that asked for tools, every tool result (with its files), and the final assistant message (tokens,
 * cost, tools called) or the error. The run service debits the wallet in the same transaction.
 */

export interface TurnContext { conversationId: string; runId: string; costMicro: number; files: Map<string, PendingFile> }

export function recordTurn(k: Kernel, ctx: TurnContext, c: Collected): { message: MessageRow; view: MessageView } {
  const r = c.result
  const extra = { run_id: ctx.runId }
  const rows: NewMessage[] = []
  const files: Array<{ file: PendingFile; messageId: string }> = []
  const args = new Map<string, ToolCall>()
  let final: NewMessage | null = null
  for (const m of r.messages) {
    if (m.role === 'assistant' && m.toolCalls?.length) {
      for (const call of m.toolCalls) args.set(call.id, call)
      rows.push(newMessage(k, ctx.conversationId, 'assistant', m.content, { ...extra, tool_calls: JSON.stringify(m.toolCalls) }))
    } else if (m.role === 'tool') {
      const row = newMessage(k, ctx.conversationId, 'tool', m.content, {
        ...extra, tool_call_id: m.toolCallId, tool_name: m.name, tool_arguments: JSON.stringify(args.get(m.toolCallId)?.arguments ?? {}), is_error: m.isError ? 1 : 0,
      })
      const names = new Set<string>()
      for (const match of m.content.matchAll(ATTACHMENT_REF)) {
        const file = ctx.files.get(match[1])
        if (!file) continue
        let name = file.filename
        for (let n = 2; names.has(name); n++) name = file.filename.replace(/(\.[^.]*)?$/, `-${n}$1`)
        names.add(name)
        files.push({ file: { ...file, filename: name }, messageId: row.id })
      }
      rows.push(row)
    } else if (m.role === 'assistant' && c.ok) final = newMessage(k, ctx.conversationId, 'assistant', m.content, extra)
  }
  const usage = { tokens_used: r.usage.tokens_input + r.usage.tokens_output, cost_micro: ctx.costMicro, tools_called: JSON.stringify(r.tool_calls) }
  if (c.ok) final = { ...(final ?? newMessage(k, ctx.conversationId, 'assistant', r.text, extra)), ...usage }
  else {
    final = newMessage(k, ctx.conversationId, 'assistant', r.text ?? '', {
      ...extra, ...usage, status: c.code === 'cancelled' ? 'cancelled' : 'error', error_message: c.error,
    })
  }
  rows.push(final)
  const now = nowIso(k.clock)
  k.db.transaction(() => {
    if (!conversationsStore(k.db).get(ctx.conversationId)) return // deleted while the turn ran: nothing to attach it to
    const msgs = messagesStore(k.db)
    for (const row of rows) msgs.insert(row)
    for (const { file, messageId } of files) {
      attachmentsStore(k.db).insert({
        id: file.id ?? newId('att'), message_id: messageId, conversation_id: ctx.conversationId, filename: file.filename, content_type: file.contentType,
        size: file.data.length, sha256: file.sha256, data: file.data, created_at: now,
      })
    }
    conversationsStore(k.db).touch(ctx.conversationId, rows.length, now)
  })()
  const saved = { seq: 0, ...final } as MessageRow
  return { message: saved, view: messageView(saved) }
}
