import { PlatformError, platformRequest, str, type Platform, type PlatformContext } from './types'

/** Telegram Bot API: https://api.telegram.org/bot<token>/<method>. The URL carries the token: never log it. */
async function telegram(ctx: PlatformContext, method: string, json?: unknown) {
  const res = await platformRequest(ctx, 'Telegram', `${ctx.k.config.platformApis.telegram}/bot${ctx.config.bot_token}/${method}`, json === undefined ? {} : { method: 'POST', json })
  if (!res.json || typeof res.json !== 'object') throw PlatformError.refused(`Telegram answered HTTP ${res.status} without JSON`)
  if (res.json.ok !== true) {
    const code = res.json.error_code ?? res.status
    throw PlatformError.refused(`Telegram: ${res.json.description ?? `error ${code}`}`, code === 401 || code === 404)
  }
  return res.json.result
}

export const telegramPlatform: Platform = {
  id: 'telegram',
  name: 'Telegram',
  description: 'Send messages from a Telegram bot (token from @BotFather).',
  docsUrl: 'https://core.telegram.org/bots/api#sendmessage',
  configSchema: {
    type: 'object',
    properties: { bot_token: str('Bot token from @BotFather (123456:ABC...)', { minLength: 1, maxLength: 200, pattern: '^[0-9]+:[A-Za-z0-9_-]+$' }) },
    required: ['bot_token'],
    additionalProperties: false,
  },
  secretFields: ['bot_token'],
  tools: () => [
    {
      op: 'send_message',
      description: 'Send a text message to a Telegram chat (numeric chat id or @channelusername).',
      inputSchema: {
        type: 'object',
        properties: {
          chat_id: { type: ['string', 'integer'], description: 'Chat id or @channelusername' },
          text: str('Message text', { minLength: 1, maxLength: 4096 }),
          parse_mode: { type: 'string', enum: ['MarkdownV2', 'HTML', 'Markdown'], description: 'Formatting mode' },
          reply_to_message_id: { type: 'integer', description: 'Reply to this message' },
        },
        required: ['chat_id', 'text'],
        additionalProperties: false,
      },
    },
  ],
  async authenticate(ctx) {
    const me = await telegram(ctx, 'getMe')
    return { account: { id: me?.id ?? null, username: me?.username ?? null, name: me?.first_name ?? null } }
  },
  async call(ctx, op, args) {
    if (op !== 'send_message') throw PlatformError.refused(`Telegram has no operation "${op}"`)
    const m = await telegram(ctx, 'sendMessage', {
      chat_id: args.chat_id, text: args.text,
      ...(args.parse_mode ? { parse_mode: args.parse_mode } : {}),
      ...(args.reply_to_message_id ? { reply_parameters: { message_id: args.reply_to_message_id } } : {}),
    })
    return { content: `Message ${m?.message_id} sent to chat ${m?.chat?.id ?? args.chat_id}`, data: { message_id: m?.message_id ?? null, chat_id: m?.chat?.id ?? args.chat_id } }
  },
}
