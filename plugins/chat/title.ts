import type { Kernel } from '../../src/kernel'
import { conversationsStore, type ConversationRow } from './store'
import { executeRun } from './run-adapter'
import type { Choice } from './providers'

/** Conversation titles: the first words at once, then a short model-written one in the background. */

const TITLE_MAX = 80

/** "Find all 'In Progress' tickets in Jira and post..." -> "Find all 'In Progress' tickets in Jira…" */
export function firstWords(text: string, words = 7): string {
  const clean = text.replace(/[`*_#>\[\]()]/g, ' ').replace(/\s+/g, ' ').trim()
  const parts = clean.split(' ')
  const head = parts.slice(0, words).join(' ').slice(0, TITLE_MAX)
  return (parts.length > words || clean.length > head.length ? `${head}…` : head) || 'New conversation'
}

const TITLE_PROMPT = 'Write a short title (at most 6 words) for a conversation that starts with the user message below. '
  + 'Answer with the title only: no quotes, no trailing punctuation.'

/**
 * Never awaited by the turn. Replaces the first-words placeholder only if it is still the title (a rename by the
 * user wins). Failures keep the placeholder.
 */
export function generateTitle(k: Kernel, conv: ConversationRow, firstMessage: string, choice: Choice): void {
  const placeholder = firstWords(firstMessage)
  executeRun(k, {
    ownerId: conv.owner_id, workspaceId: conv.workspace_id, sourceId: conv.id, mode: 'test', reason: 'chat title', input: { message: firstMessage.slice(0, 2000) },
    spec: { systemPrompt: TITLE_PROMPT, provider: choice.provider, model: choice.model, maxTokens: 24, timeoutMs: 15_000, retry: { maxRetries: 0 }, ownerId: conv.owner_id, surface: 'chat' },
  }).then((c) => {
    if (!c.ok) return
    const title = String(c.result.text).replace(/^["'\s]+|["'.\s]+$/g, '').replace(/\s+/g, ' ').slice(0, TITLE_MAX)
    if (title) conversationsStore(k.db).replaceTitle(conv.id, placeholder, title)
  }).catch((err) => k.log.warn('chat title generation failed', { conversation_id: conv.id, error: String(err) }))
}
