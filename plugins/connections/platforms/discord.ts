import { PlatformError, platformRequest, snippet, str, type Platform, type PlatformContext } from './types'

/** Discord REST API v10 with a bot token (`Authorization: Bot <token>`). */
async function discord(ctx: PlatformContext, path: string, json?: unknown) {
  const res = await platformRequest(ctx, 'Discord', `${ctx.k.config.platformApis.discord}${path}`, {
    method: json === undefined ? 'GET' : 'POST', json, headers: { authorization: `Bot ${ctx.config.bot_token}` },
  })
  if (!res.ok) throw PlatformError.refused(`Discord: ${res.json?.message ?? `HTTP ${res.status} ${snippet(res.text)}`}`, res.status === 401)
  return res.json
}

export const discordPlatform: Platform = {
  id: 'discord',
  name: 'Discord',
  description: 'Send messages to Discord channels with a bot token.',
  docsUrl: 'https://discord.com/developers/docs/resources/message#create-message',
  configSchema: {
    type: 'object',
    properties: { bot_token: str('Bot token from the Developer Portal (Bot tab)', { minLength: 1, maxLength: 200 }) },
    required: ['bot_token'],
    additionalProperties: false,
  },
  secretFields: ['bot_token'],
  tools: () => [
    {
      op: 'send_message',
      description: 'Send a message to a Discord channel by its id.',
      inputSchema: {
        type: 'object',
        properties: { channel_id: str('Channel id (snowflake)', { pattern: '^[0-9]{5,25}$' }), content: str('Message text', { minLength: 1, maxLength: 2000 }) },
        required: ['channel_id', 'content'],
        additionalProperties: false,
      },
    },
  ],
  async authenticate(ctx) {
    const me = await discord(ctx, '/users/@me')
    return { account: { id: me?.id ?? null, username: me?.username ?? null } }
  },
  async call(ctx, op, args) {
    if (op !== 'send_message') throw PlatformError.refused(`Discord has no operation "${op}"`)
    const m = await discord(ctx, `/channels/${encodeURIComponent(args.channel_id)}/messages`, { content: args.content })
    return { content: `Message ${m?.id} sent to channel ${args.channel_id}`, data: { id: m?.id ?? null, channel_id: m?.channel_id ?? args.channel_id } }
  },
}
