import type { Kernel } from '../../src/kernel'
import { canAccess } from '../../src/auth/principal'
import { continueConversation, type ExternalTurn } from '../chat/service'
import type { Caller } from './access'

/**
 * `X-Agentbase-Conversation: <conv_id>` on /v1/chat/completions: the call continues a stored chat conversation
 * (plugins/chat). The stored history replaces the messages the client sent before its last user message; the
 * user message and the agent's answer are saved to the conversation in the run's transaction. One turn at a
 * time: a busy conversation answers 409 with Retry-After.
 */

export type ConversationTurn = ExternalTurn

export const CONVERSATION_HEADER = 'x-agentbase-conversation'

/** An endpoint key reaches its owner's conversations; a principal those it can access. */
export const openConversation = (k: Kernel, caller: Caller, id: string, userText: string): Promise<ConversationTurn> =>
  continueConversation(k, id, (c) => (caller.kind === 'key' ? c.owner_id === caller.endpoint.owner_id : canAccess(caller.principal, c.owner_id, c.workspace_id)), userText)
