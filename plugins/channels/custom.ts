import { randomString } from '../../src/db/ids'
import type { Channel } from './types'

/**
 * The custom channel: your own system POSTs `{ text, user_id, channel_id, user_name }` and gets the
 * answer in the same HTTP response. No verification (the bot id in the URL is the address); no inbox.
 */
export const custom: Channel = {
  platform: 'custom',
  validateConfig: () => ({}),
  verify: () => true,
  parse(_k, _bot, d) {
    const b = d.body as any
    if (!b || typeof b !== 'object' || Array.isArray(b)) return { kind: 'respond', status: 400, body: { error: 'Body must be a JSON object with "text"', code: 'invalid_request' } }
    const problems: Record<string, string> = {}
    if (typeof b.text !== 'string' || b.text.trim() === '') problems.text = 'is required (a non-empty string)'
    else if (b.text.length > 32_000) problems.text = 'must be at most 32000 characters'
    for (const f of ['user_id', 'channel_id', 'user_name']) {
      if (b[f] !== undefined && b[f] !== null && typeof b[f] !== 'string' && typeof b[f] !== 'number') problems[f] = 'must be a string'
    }
    if (Object.keys(problems).length) {
      const [field, problem] = Object.entries(problems)[0]
      return { kind: 'respond', status: 400, body: { error: `${field} ${problem}`, code: 'validation_failed', details: problems } }
    }
    const userId = b.user_id != null && String(b.user_id) !== '' ? String(b.user_id) : 'anonymous'
    const chatId = b.channel_id != null && String(b.channel_id) !== '' ? String(b.channel_id) : userId
    return {
      kind: 'messages',
      messages: [{
        dedupeKey: `custom:${randomString(16)}`,
        chatId, userId,
        userName: b.user_name != null && String(b.user_name) !== '' ? String(b.user_name) : undefined,
        text: b.text,
        reply: {},
      }],
    }
  },
  ack: () => ({}),
  maxText: Number.MAX_SAFE_INTEGER,
  async send() { return null /* answered synchronously in the HTTP response */ },
  async register() { return { warnings: [], manual_setup_required: false } },
  async unregister() {},
}
