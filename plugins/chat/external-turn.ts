import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { nowIso } from '../../src/clock'
import type { ChatMessage, RunResult } from '../../src/agent/types'
import type { RunView } from '../../src/runs/types'
import { newMessage } from './service'
import { turnLocks } from './locks'
import { windowHistory, HISTORY_TOKEN_BUDGET } from './history'
import { recordTurn } from './record'
import { outcomeOfRun } from './run-adapter'
import { RETRY_AFTER_SECONDS } from './turn'
import { conversationsStore, messagesStore } from './store'

/** A turn another surface runs in a stored conversation (the OpenAI-compatible `X-Agentbase-Conversation`). */
export interface ExternalTurn {
  id: string
  history: ChatMessage[]
  /** System text the conversation carries (its system prompt, summaries), added after the agent's prompt. */
  system: string
  /** Inside the run's final transaction: records the answer in the conversation. */
  onFinish: (run: RunView, result: RunResult) => void
  release: () => void
}

/**
 * Opens a turn in conversation `id` for a caller the surface authorises with `allowed` (a refused or missing
 * conversation is the same 404). The user message is saved now; one turn at a time (busy = 409 + Retry-After).
 */
export async function continueConversation(k: Kernel, id: string, allowed: (c: { owner_id: string; workspace_id: string | null }) => boolean, userText: string): Promise<ExternalTurn> {
  const conv = conversationsStore(k.db).get(id)
  if (!conv || !allowed(conv)) throw new ApiError(404, `Conversation ${id} not found`, 'conversation_not_found')
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
