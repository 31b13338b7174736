import type { Kernel } from '../../src/kernel'
import { ApiError, notFound } from '../../src/http/errors'
import type { Principal } from '../../src/auth/principal'
import type { AgentSpec, RunEvent } from '../../src/agent/types'
import { emptyResult, type Collected } from '../../src/agent/run'
import { sseResponse } from '../../src/http/sse'
import { timeOrderedId } from '../../src/db/ids'
import { nowIso } from '../../src/clock'
import { workspaceToolSet, type CatalogEntry, type WorkspaceToolSet } from '../../src/tools/workspace-tools'
import * as wallet from '../wallet/service'
import { conversationsStore, messagesStore, type ConversationRow, type MessageRow } from './store'
import { newMessage, requireConversation } from './service'
import { resolveChoice, type Choice } from './providers'
import { selectTools, type Selection } from './selection'
import { classifyIntent, type IntentResult } from './intent'
import { windowHistory, HISTORY_TOKEN_BUDGET } from './history'
import { ChatToolSet } from './tool-set'
import { turnLocks } from './locks'
import { recordTurn } from './record'
import { checkRunnable, startRun } from './run-adapter'
import { generateTitle, firstWords } from './title'
import type { MessageView, SendMessageInput } from './model'

/** The orchestrator turn: intent, tool selection, the runtime's tool loop (one repair turn), recording, streaming. */

export const CHAT_SYSTEM_PROMPT = 'You are the Agentbase assistant. Use the offered tools when the user asks you to act or needs live data; '
  + 'otherwise answer directly and concisely. Tool results that mention an attachment are files the user can download.'
export const TURN_LIMITS = { maxToolCalls: 12, maxIterations: 10, timeoutMs: 60_000 }
export const RETRY_AFTER_SECONDS = 2

/** Recent user messages: a weaker ranking signal, so "and now send it to Slack" still finds what it refers to. */
export function rankingContext(rows: MessageRow[]): string {
  return rows.filter((r) => r.role === 'user').slice(-2).map((r) => r.content).join('\n')
}

/** What the turn offers: nothing for a confident greeting; otherwise the BM25 top k plus tools used before. */
export function planTools(catalog: CatalogEntry[], content: string, rows: MessageRow[], usedBefore: string[]): { selection: Selection; intent: IntentResult; offered: string[] } {
  const selection = selectTools(catalog, content, { context: rankingContext(rows), usedBefore })
  const intent = classifyIntent(content, selection.ranked)
  const skip = !intent.needs_tools && intent.confidence >= 0.9
  const offered = skip ? selection.offered.filter((n) => usedBefore.includes(n)) : selection.offered
  if (skip) for (const r of selection.ranked) r.offered = offered.includes(r.name)
  return { selection, intent, offered }
}

export const toolSetFor = (k: Kernel, who: Principal, conv: ConversationRow) =>
  workspaceToolSet(k, conv.owner_id, conv.workspace_id, { actor: who.tokenId ?? who.userId })

interface Prepared { conv: ConversationRow; spec: AgentSpec; tools: ChatToolSet; history: ReturnType<typeof windowHistory>; user: MessageRow; runId: string; choice: Choice; titleFrom: string | null }

async function prepare(k: Kernel, who: Principal, convId: string, body: SendMessageInput, choice: Choice): Promise<Prepared> {
  const conv = conversationsStore(k.db).get(convId)
  if (!conv) throw notFound('Conversation') // deleted while this turn waited in the queue
  const toolset: WorkspaceToolSet = toolSetFor(k, who, conv)
  const catalog = await toolset.catalog()
  const rows = messagesStore(k.db).all(conv.id)
  const history = windowHistory(rows, HISTORY_TOKEN_BUDGET)
  const { offered } = planTools(catalog, body.content, rows, messagesStore(k.db).toolNames(conv.id))
  const names = new Set(offered)
  const tools = new ChatToolSet(toolset, catalog.filter((e) => names.has(e.name)))
  const spec: AgentSpec = {
    systemPrompt: [CHAT_SYSTEM_PROMPT, ...history.system].join('\n\n'), provider: choice.provider, model: choice.model, tools,
    ...TURN_LIMITS, ownerId: conv.owner_id, surface: 'chat',
  }
  await checkRunnable(k, spec)
  const now = nowIso(k.clock)
  const user = { seq: 0, ...newMessage(k, conv.id, 'user', body.content) } as MessageRow
  let titleFrom: string | null = null
  k.db.transaction(() => {
    messagesStore(k.db).insert(user)
    conversationsStore(k.db).touch(conv.id, 1, now)
    // No title yet: the first words at once, a generated one after the reply (never blocking it).
    if (!conv.title && conversationsStore(k.db).setTitleIfEmpty(conv.id, firstWords(body.content))) titleFrom = body.content
  })()
  return { conv, spec, tools, history, user, runId: timeOrderedId('run', k.clock.now()), choice, titleFrom }
}

/** Wraps the run's events: limits schema repair to one turn, records the outcome before the final event goes out. */
function recorded(k: Kernel, p: Prepared, events: AsyncIterable<RunEvent>, abort: AbortController, release: () => void, done: (v: MessageView, c: Collected) => void): AsyncIterable<RunEvent | Record<string, unknown>> {
  const it = events[Symbol.asyncIterator]()
  const partial = emptyResult()
  const invalidTurns = new Set<number>()
  let iteration = 1
  let finished = false
  const finish = (c: Collected) => {
    finished = true
    try {
      const { view } = recordTurn(k, { conversationId: p.conv.id, ownerId: p.conv.owner_id, runId: p.runId, provider: p.choice.provider, files: p.tools.files }, c)
      done(view, c)
      return view
    } finally { release() }
  }
  const cancelled = () => finish({ ok: false, result: partial, error: 'The client disconnected; the turn was cancelled', code: 'cancelled', status: 499 })
  const iterator: AsyncIterator<RunEvent | Record<string, unknown>> = {
    async next() {
      let r: IteratorResult<RunEvent>
      try {
        r = await it.next()
      } catch (err) {
        if (finished) throw err
        const api = err instanceof ApiError ? err : new ApiError(500, String((err as Error)?.message ?? err), 'internal_error')
        const view = finish({ ok: false, result: partial, error: api.message, code: api.code, status: api.status })
        return { done: false, value: { type: 'run.failed', run_id: p.runId, conversation_id: p.conv.id, error: api.message, code: api.code, status: api.status, message: view } }
      }
      if (r.done) {
        if (!finished) cancelled()
        return r
      }
      const e = r.value
      if (e.type === 'usage') {
        iteration = e.iteration + 1
        Object.assign(partial.usage, { tokens_input: e.tokens_input, tokens_output: e.tokens_output, cost_micro: Math.round(e.cost_cents * 1e6), iterations: e.iteration })
      } else if (e.type === 'tool.completed') {
        partial.tool_calls.push({ tool: e.tool, success: e.success, latency_ms: e.latency_ms })
        // The runtime hands invalid arguments back to the model with the validation errors: that is the repair
        // turn. Invalid arguments again in a later model turn end the run.
        if (!e.success && e.error?.startsWith('Invalid arguments for')) {
          const turn = iteration - 1
          invalidTurns.add(turn)
          if (invalidTurns.size > 1 && !abort.signal.aborted) {
            abort.abort(new ApiError(422, `The model sent invalid arguments for ${e.tool} again after a repair turn: ${e.error.slice(0, 300)}`, 'tool_arguments_invalid'))
          }
        }
      } else if (e.type === 'run.completed' || e.type === 'run.failed') {
        const c: Collected = e.type === 'run.completed' ? { ok: true, result: e.result } : { ok: false, result: e.result, error: e.error, code: e.code, status: e.status }
        const view = finish(c)
        const usage = { ...e.result.usage, tokens_used: view.tokens_used, cost_cents: view.cost_cents }
        return {
          done: false,
          value: e.type === 'run.completed'
            ? { type: 'run.completed', run_id: p.runId, conversation_id: p.conv.id, message: view, usage }
            : { type: 'run.failed', run_id: p.runId, conversation_id: p.conv.id, error: e.error, code: e.code, status: e.status, message: view, usage },
        }
      }
      return r
    },
    async return() {
      await it.return?.()
      if (!finished) cancelled()
      return { done: true, value: undefined }
    },
  }
  return { [Symbol.asyncIterator]: () => iterator }
}

export interface TurnRequest { stream: boolean; signal: AbortSignal }

/** POST /conversations/:id/messages: the saved assistant message (JSON) or the SSE stream of the turn. */
export async function sendMessage(k: Kernel, who: Principal, convId: string, body: SendMessageInput, req: TurnRequest): Promise<MessageView | Response> {
  const conv = requireConversation(k, who, convId)
  const choice = resolveChoice(k, conv.owner_id, { provider: body.provider }, { strictKey: true, conversation: conv })
  if (choice.provider !== 'ollama') wallet.assertCanSpend(k, conv.owner_id)
  const locks = turnLocks(k)
  if (locks.busy(conv.id) && body.multitask !== 'enqueue') {
    throw new ApiError(409, 'A turn is already running in this conversation: retry after it ends, or send "multitask": "enqueue" to queue this message', 'turn_in_progress', undefined, { 'retry-after': String(RETRY_AFTER_SECONDS) })
  }
  const release = await locks.acquire(conv.id)
  let p: Prepared
  try {
    p = await prepare(k, who, conv.id, body, choice)
  } catch (err) {
    release()
    throw err
  }
  const abort = new AbortController()
  const signal = AbortSignal.any([abort.signal, req.signal])
  const { events } = startRun(k, {
    runId: p.runId, ownerId: p.conv.owner_id, workspaceId: p.conv.workspace_id, sourceId: p.conv.id, spec: p.spec,
    input: { message: body.content, history: p.history.messages }, mode: req.stream ? 'stream' : 'sync',
    meta: { conversation_id: p.conv.id, user_message_id: p.user.id }, signal,
  })
  let outcome: { view: MessageView; c: Collected } | null = null
  const wrapped = recorded(k, p, events, abort, release, (view, c) => {
    outcome = { view, c }
    if (c.ok && p.titleFrom) generateTitle(k, p.conv, p.titleFrom, choice)
  })
  if (req.stream) return sseResponse(k, wrapped as AsyncIterable<{ type: string }>, { signal: req.signal })
  for await (const _ of wrapped) { /* recorded at the terminal event */ }
  const o = outcome as { view: MessageView; c: Collected } | null
  if (!o) throw new ApiError(499, 'The turn was cancelled', 'cancelled')
  if (!o.c.ok) throw new ApiError(o.c.status, o.c.error, o.c.code, { message_id: o.view.id })
  return o.view
}
