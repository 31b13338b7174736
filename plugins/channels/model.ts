import { t } from 'elysia'

export const BotIdParams = t.Object({ botId: t.String({ description: 'The bot id (bt_...)' }) })

export const ErrorBody = t.Object({ error: t.String(), code: t.Optional(t.String()), details: t.Optional(t.Record(t.String(), t.String())) })

/** Platforms send their own JSON shapes; verification runs over the raw body, so the parsed body is not constrained here. */
export const PlatformPayload = t.Unknown({ description: 'The platform\'s webhook payload, exactly as sent (Telegram Update, Discord Interaction, WhatsApp notification, Slack event envelope)' })

export const PlatformAck = t.Unknown({ description: 'The platform\'s expected acknowledgement: {"ok":true}, Discord {"type":1} (PONG) or {"type":5} (deferred), Slack {"challenge":...}' })

export const WhatsAppQuery = t.Object({
  'hub.mode': t.Optional(t.String({ description: 'Must be "subscribe"' })),
  'hub.verify_token': t.Optional(t.String({ description: 'Must equal platform_config.verify_token' })),
  'hub.challenge': t.Optional(t.String({ description: 'Echoed back as text' })),
})

export const CustomMessage = t.Object({
  text: t.String({ minLength: 1, maxLength: 32000, description: 'The user\'s message' }),
  user_id: t.Optional(t.Union([t.String({ maxLength: 256 }), t.Number()], { description: 'Your user id (conversations are per channel and user); "anonymous" when absent' })),
  channel_id: t.Optional(t.Union([t.String({ maxLength: 256 }), t.Number()], { description: 'Your channel/chat id; defaults to user_id' })),
  user_name: t.Optional(t.String({ maxLength: 256, description: 'Display name' })),
})

export const CustomAnswer = t.Object({
  response: t.String({ description: 'The bot\'s answer (the welcome message first, on a user\'s first message); the fallback message when the run failed' }),
  tool_calls: t.Array(t.Object({ tool: t.String(), success: t.Boolean(), latency_ms: t.Number() })),
  tokens: t.Object({ input: t.Integer(), output: t.Integer() }),
  cost_cents: t.Number(),
  latency_ms: t.Number(),
  conversation_id: t.String(),
})
