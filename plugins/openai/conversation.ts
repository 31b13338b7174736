import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { nowIso } from '../../src/clock'
import type { ChatMessage } from '../../src/agent/types'
import type { RunResult } from '../../src/agent/types'
import type { RunView } from '../../src/runs/types'
import { canAccess } from '../../src/auth/principal'
import { newMessage } from '../chat/service'
import { turnLocks } from '../chat/locks'
import { windowHistory, HISTORY_TOKEN_BUDGET } from '../chat/history'
import { recordTurn } from '../chat/record'
import { outcomeOfRun } from '../chat/run-adapter'
import { RETRY_AFTER_SECONDS } from '../chat/turn'
import { conversationsStore, messagesStore } from '../chat/store'
import type { Caller } from './access'

/**
 * `X-Agentbase-Conversation: <conv_id>` on /v1/chat/completions: the call continues a stored chat conversation
 * (plugins/chat). The stored history replaces the messages the client sent before its last user message; the
 * user message and the agent's answer are saved to the conversation in the run's transaction. One turn at a
 * time: a busy conversation answers 409 with Retry-After.
 */

export interface ConversationTurn {
  id: string
  history: ChatMessage[]
  /** System text the conversation carries (its system prompt, summaries), added after the agent's prompt. */
  system: string
  /** Inside the run's final transaction. */
  onFinish: (run: RunView, result: RunResult) => void
  release: () => void
}

export const CONVERSATION_HEADER = 'x-agentbase-conversation'

export async function openConversation(k: Kernel, caller: Caller, id: string, userText: string): Promise<ConversationTurn> {
  const conv = conversationsStore(k.db).get(id)
  const owner = caller.kind === 'key' ? caller.endpoint.owner_id : null
  const allowed = conv && (caller.kind === 'key' ? conv.owner_id === owner : canAccess(caller.principal, conv.owner_id, conv.workspace_id))
  if (!conv || !allowed) throw new ApiError(404, `Conversation ${id} not found`, 'conversation_not_found')
  const locks = turnLocks(k)
  if (locks.busy(conv.id)) {
    throw new ApiError(409, 'A turn is already running in this conversation; retry after it ends', 'conversation_busy', undefined, { 'retry-after': String(RETRY_AFTER_SECONDS) })
  }
  const release = await locks.acquire(conv.id)
  try {
    const windowed = windowHistory(messagesStore(k.db).all(conv.id), HISTORY_TOKEN_BUDGET)
    const user = newMessage(k, conv.id, 'user', userText)
    k.db.transaction(() => {
      messagesStore(k.db).insert(user)
      conversationsStore(k.db).touch(conv.id, 1, nowIso(k.clock))
    })()
    return {
      id: conv.id,
      history: windowed.messages,
      system: windowed.system.join('\n\n'),
      onFinish: (run, result) => {
        recordTurn(k, { conversationId: conv.id, runId: run.id, costMicro: run.cost_micro, files: new Map() }, outcomeOfRun(run, result))
        queueMicrotask(release)
      },
      release,
    }
  } catch (err) {
    release()
    throw err
  }
}
