import type { Kernel } from '../../src/kernel'
import { ApiError, notFound } from '../../src/http/errors'
import type { Principal } from '../../src/auth/principal'
import type { AgentSpec, RunEvent } from '../../src/agent/types'
import type { Collected } from '../../src/agent/run'
import { sseResponse } from '../../src/http/sse'
import { nowIso } from '../../src/clock'
import { workspaceToolSet, type CatalogEntry, type WorkspaceToolSet } from '../../src/tools/workspace-tools'
import * as wallet from '../wallet/service'
import { conversationsStore, messagesStore, type ConversationRow, type MessageRow } from './store'
import { newMessage, recordFailedTurn, requireConversation } from './service'
import { resolveChoice, type Choice } from './providers'
import { selectToolsAsync, type Selection } from './selection'
import { classifyIntent, type IntentResult } from './intent'
import { loadWindow, HISTORY_TOKEN_BUDGET } from './history'
import { ChatToolSet } from './tool-set'
import { turnLocks } from './locks'
import { recordTurn } from './record'
import { cancelRun, checkRunnable, outcomeOfRun, startRun } from './run-adapter'
import { generateTitle, firstWords } from './title'
import type { MessageView, SendMessageInput } from './model'

/** The orchestrator turn: intent, tool selection, the runtime's tool loop (one repair turn), recording, streaming. */

export const CHAT_SYSTEM_PROMPT = 'You are the Agentbase assistant. Use the offered tools when the user asks you to act or needs live data; '
  + 'otherwise answer directly and concisely. Tool results that mention an attachment are files the user can download.'
export const TURN_LIMITS = { maxToolCalls: 12, maxIterations: 10, timeoutMs: 60_000 }
export const RETRY_AFTER_SECONDS = 2
/** Messages that may wait behind a running turn ("multitask": "enqueue"); more get 429. */
export const MAX_QUEUED_TURNS = 5

/** Recent user messages: a weaker ranking signal, so "and now send it to Slack" still finds what it refers to. */
export function rankingContext(rows: Array<Pick<MessageRow, 'role' | 'content'>>): string {
  return rows.filter((r) => r.role === 'user').slice(-2).map((r) => r.content).join('\n')
}

/**
 * What the turn offers: nothing for a confident greeting; otherwise the top k (BM25, plus embeddings when a model is
 * configured) and the tools used before. The intent reads the BM25 ranking (its thresholds are in BM25 terms).
 */
export async function planTools(k: Kernel, catalog: CatalogEntry[], content: string, rows: Array<Pick<MessageRow, 'role' | 'content'>>, usedBefore: string[]): Promise<{ selection: Selection; intent: IntentResult; offered: string[] }> {
  const { selection, bm25 } = await selectToolsAsync(k, catalog, content, { context: rankingContext(rows), usedBefore })
  const intent = classifyIntent(content, bm25.ranked)
  const skip = !intent.needs_tools && intent.confidence >= 0.9
  const offered = skip ? selection.offered.filter((n) => usedBefore.includes(n)) : selection.offered
  if (skip) for (const r of selection.ranked) r.offered = offered.includes(r.name)
  return { selection, intent, offered }
}

export const toolSetFor = (k: Kernel, who: Principal, conv: ConversationRow) =>
  workspaceToolSet(k, conv.owner_id, conv.workspace_id, { actor: who.tokenId ?? who.userId })

interface Prepared { conv: ConversationRow; spec: AgentSpec; tools: ChatToolSet; history: ReturnType<typeof loadWindow>; user: MessageRow; choice: Choice; titleFrom: string | null }

async function prepare(k: Kernel, who: Principal, convId: string, body: SendMessageInput, choice: Choice): Promise<Prepared> {
  const conv = conversationsStore(k.db).get(convId)
  if (!conv) throw notFound('Conversation') // deleted while this turn waited in the queue
  const toolset: WorkspaceToolSet = toolSetFor(k, who, conv)
  const catalog = await toolset.catalog()
  const msgs = messagesStore(k.db)
  const history = loadWindow({ system: () => msgs.windowSystem(conv.id), recent: (n) => msgs.windowRows(conv.id, n) }, HISTORY_TOKEN_BUDGET)
  const { offered } = await planTools(k, catalog, body.content, history.rows, msgs.toolNames(conv.id))
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
  return { conv, spec, tools, history, user, choice, titleFrom }
}

/**
 * Passes the run's events through: limits schema repair to one turn (cancelling the run on a second invalid
 * turn) and replaces the terminal event with one carrying the saved message (saved by onFinish, before it).
 */
function relay(k: Kernel, p: Prepared, runId: string, events: AsyncIterable<RunEvent>, turn: TurnState): AsyncIterable<RunEvent | Record<string, unknown>> {
  const it = events[Symbol.asyncIterator]()
  const invalidTurns = new Set<number>()
  let iteration = 1
  const iterator: AsyncIterator<RunEvent | Record<string, unknown>> = {
    async next() {
      const r = await it.next()
      if (r.done) { turn.release(); return r }
      const e = r.value
      if (e.type === 'usage') iteration = e.iteration + 1
      else if (e.type === 'tool.completed' && !e.success && e.error?.startsWith('Invalid arguments for')) {
        // The runtime hands invalid arguments back to the model with the validation errors: that is the repair
        // turn. Invalid arguments again in a later model turn end the run.
        invalidTurns.add(iteration - 1)
        if (invalidTurns.size > 1 && !turn.repairStopped) {
          turn.repairStopped = true
          void cancelRun(k, runId, { message: `The model sent invalid arguments for ${e.tool} again after a repair turn: ${e.error.slice(0, 300)}`, code: 'tool_arguments_invalid', status: 422 })
        }
      } else if (e.type === 'run.completed' || e.type === 'run.failed') {
        turn.release()
        const view = turn.saved
        const usage = { ...e.result.usage, ...(view ? { tokens_used: view.tokens_used, cost_cents: view.cost_cents } : {}) }
        const base = { run_id: runId, conversation_id: p.conv.id, message: view, usage }
        return { done: false, value: e.type === 'run.completed' ? { type: 'run.completed', ...base } : { type: 'run.failed', error: e.error, code: e.code, status: e.status, ...base } }
      }
      return r
    },
    async return() {
      await it.return?.()
      // The cancelled run commits (and onFinish releases the turn) shortly; a backstop if it never does.
      setTimeout(turn.release, 5000).unref?.()
      return { done: true, value: undefined }
    },
  }
  return { [Symbol.asyncIterator]: () => iterator }
}

interface TurnState { saved: MessageView | null; outcome: Collected | null; repairStopped: boolean; release: () => void }

export interface TurnRequest { stream: boolean; signal: AbortSignal }

/** POST /conversations/:id/messages: the saved assistant message (JSON) or the SSE stream of the turn. */
export async function sendMessage(k: Kernel, who: Principal, convId: string, body: SendMessageInput, req: TurnRequest): Promise<MessageView | Response> {
  const conv = requireConversation(k, who, convId)
  const choice = resolveChoice(k, conv.owner_id, { provider: body.provider }, { strictKey: true, conversation: conv })
  // The run service gates billing too; checking first keeps a refused turn from saving its user message.
  if (choice.provider !== 'ollama') wallet.assertCanSpend(k, conv.owner_id)
  const locks = turnLocks(k)
  if (locks.busy(conv.id) && body.multitask !== 'enqueue') {
    throw new ApiError(409, 'A turn is already running in this conversation: retry after it ends, or send "multitask": "enqueue" to queue this message', 'turn_in_progress', undefined, { 'retry-after': String(RETRY_AFTER_SECONDS) })
  }
  if (locks.queued(conv.id) >= MAX_QUEUED_TURNS) {
    throw new ApiError(429, `Rate limited: ${MAX_QUEUED_TURNS} messages already wait for this conversation's running turn`, 'turn_queue_full', undefined, { 'retry-after': String(RETRY_AFTER_SECONDS) })
  }
  const release = await locks.acquire(conv.id)
  const turn: TurnState = { saved: null, outcome: null, repairStopped: false, release }
  let p: Prepared | null = null
  let started: { runId: string; events: AsyncIterable<RunEvent> }
  try {
    p = await prepare(k, who, conv.id, body, choice)
    const prepared = p
    started = await startRun(k, {
      ownerId: p.conv.owner_id, workspaceId: p.conv.workspace_id, sourceId: p.conv.id, spec: p.spec, caller: who.tokenId ?? who.userId,
      input: { message: body.content, history: p.history.messages }, mode: req.stream ? 'stream' : 'sync', reason: 'chat turn',
      meta: { conversation_id: p.conv.id, user_message_id: p.user.id }, refs: { conversation_id: p.conv.id },
      // Inside the run's final transaction: the turn's messages commit together with the run and its debit.
      onFinish: (run, result) => {
        const c = outcomeOfRun(run, result)
        turn.outcome = c
        turn.saved = recordTurn(k, { conversationId: prepared.conv.id, runId: run.id, costMicro: run.cost_micro, files: prepared.tools.files }, c).view
        queueMicrotask(release)
        if (c.ok && prepared.titleFrom) queueMicrotask(() => generateTitle(k, prepared.conv, prepared.titleFrom!, choice))
      },
    })
  } catch (err) {
    // Refused after the user message was saved (billing's reservation, a configuration error): say so in the history.
    if (p && !turn.saved) {
      try { recordFailedTurn(k, p.conv.id, null, err instanceof ApiError ? err.message : 'The turn could not start') } catch { /* the refusal is what the caller needs */ }
    }
    release()
    throw err
  }
  const events = relay(k, p!, started.runId, started.events, turn)
  if (req.stream) return sseResponse(k, events as AsyncIterable<{ type: string }>, { signal: req.signal })
  // A sync caller that goes away cancels its turn.
  const onAbort = () => { void cancelRun(k, started.runId) }
  req.signal.addEventListener('abort', onAbort, { once: true })
  try {
    for await (const _ of events) { /* the terminal event comes after onFinish saved the turn */ }
  } finally { req.signal.removeEventListener('abort', onAbort) }
  const o = turn.outcome as Collected | null
  const view = turn.saved as MessageView | null
  if (!o || !view) throw new ApiError(500, 'The turn ended without being recorded', 'internal_error')
  if (!o.ok) throw new ApiError(o.status, o.error, o.code, { message_id: view.id })
  return view
}
