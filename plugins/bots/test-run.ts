/** POST /api/bots/:id/test: the full engine without a platform adapter, in the caller's own test conversation. */
import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import type { Principal } from '../../src/auth/principal'
import { handleIncoming, loopIterations } from './engine'
import { requireBot } from './service'

export const TEST_RPM = 10

export async function testBot(k: Kernel, who: Principal, id: string, message: string, signal?: AbortSignal) {
  requireBot(k, who, id)
  const r = await handleIncoming(k, id, { chatId: `test:${who.userId}`, userId: who.userId, userName: who.email, text: message }, { source: 'test', signal })
  if (r.failed && r.error) {
    // Recorded like a platform failure (fallback in the conversation); the caller learns why.
    throw new ApiError(r.error.status >= 400 ? r.error.status : 502,
      `${r.error.message}. On a platform the bot would have answered its fallback message (recorded in conversation ${r.conversationId}).`, r.error.code)
  }
  const res = r.result!
  return {
    response: r.replies[r.replies.length - 1],
    tool_calls: res.tool_calls,
    tokens: { input: res.usage.tokens_input, output: res.usage.tokens_output },
    token_breakdown: { systemPrompt: res.token_breakdown.systemPrompt, total: res.token_breakdown.total },
    cost_cents: res.usage.cost_cents,
    latency_ms: res.usage.latency_ms,
    loop_iterations: loopIterations(res),
    conversation_id: r.conversationId,
  }
}
