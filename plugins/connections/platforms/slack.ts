import { PlatformError, platformRequest, str, type Platform, type PlatformContext } from './types'

const AUTH_ERRORS = new Set(['invalid_auth', 'not_authed', 'token_revoked', 'token_expired', 'account_inactive'])

/** Slack Web API: POST/GET https://slack.com/api/<method> with a bot token (xoxb-...). */
async function slack(ctx: PlatformContext, method: string, init: { json?: unknown; query?: Record<string, string> } = {}) {
  const base = `${ctx.k.config.platformApis.slack}/${method}`
  const url = init.query ? `${base}?${new URLSearchParams(init.query)}` : base
  const res = await platformRequest(ctx, 'Slack', url, {
    method: init.json !== undefined ? 'POST' : 'GET', json: init.json, headers: { authorization: `Bearer ${ctx.config.bot_token}` },
  })
  if (!res.json || typeof res.json !== 'object') throw PlatformError.refused(`Slack answered HTTP ${res.status} without JSON`)
  if (res.json.ok !== true) {
    const code = String(res.json.error ?? `http_${res.status}`)
    throw PlatformError.refused(`Slack: ${code}`, AUTH_ERRORS.has(code))
  }
  return res.json
}

export const slackPlatform: Platform = {
  id: 'slack',
  name: 'Slack',
  description: 'Send messages to channels and list channels with a Slack bot token.',
  docsUrl: 'https://api.slack.com/authentication/token-types#bot',
  configSchema: {
    type: 'object',
    properties: { bot_token: str('Bot User OAuth Token (xoxb-...); scopes chat:write, channels:read', { minLength: 1, maxLength: 500 }) },
    required: ['bot_token'],
    additionalProperties: false,
  },
  secretFields: ['bot_token'],
  tools: () => [
    {
      op: 'send_message',
      description: 'Post a message to a Slack channel (id like C0123 or a name like #general), optionally in a thread.',
      inputSchema: {
        type: 'object',
        properties: { channel: str('Channel id or #name', { minLength: 1 }), text: str('Message text (Slack mrkdwn)', { minLength: 1, maxLength: 40000 }), thread_ts: str('Reply in this thread (parent message ts)') },
        required: ['channel', 'text'],
        additionalProperties: false,
      },
    },
    {
      op: 'list_channels',
      description: 'List Slack channels the bot can see (id, name, privacy, member count).',
      inputSchema: {
        type: 'object',
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: 1000, description: 'Max channels, default 100' },
          types: str('Comma-separated: public_channel, private_channel, mpim, im (default public_channel)'),
          cursor: str('Pagination cursor from a previous call'),
        },
        additionalProperties: false,
      },
    },
  ],
  async authenticate(ctx) {
    const r = await slack(ctx, 'auth.test', { json: {} })
    return { account: { team: r.team ?? null, team_id: r.team_id ?? null, user: r.user ?? null, bot_id: r.bot_id ?? null, url: r.url ?? null } }
  },
  async call(ctx, op, args) {
    if (op === 'send_message') {
      const r = await slack(ctx, 'chat.postMessage', { json: { channel: args.channel, text: args.text, ...(args.thread_ts ? { thread_ts: args.thread_ts } : {}) } })
      return { content: `Message sent to ${r.channel} (ts ${r.ts})`, data: { channel: r.channel, ts: r.ts } }
    }
    if (op === 'list_channels') {
      const query: Record<string, string> = { limit: String(args.limit ?? 100), types: String(args.types ?? 'public_channel'), exclude_archived: 'true' }
      if (args.cursor) query.cursor = String(args.cursor)
      const r = await slack(ctx, 'conversations.list', { query })
      const channels = (r.channels ?? []).map((c: any) => ({ id: c.id, name: c.name, is_private: !!c.is_private, num_members: c.num_members ?? null }))
      const next = r.response_metadata?.next_cursor || null
      return {
        content: channels.length ? channels.map((c: any) => `#${c.name} (${c.id})${c.is_private ? ' private' : ''}`).join('\n') + (next ? `\n(more: cursor ${next})` : '') : 'No channels',
        data: { channels, next_cursor: next },
      }
    }
    throw PlatformError.refused(`Slack has no operation "${op}"`)
  },
}
