import { t } from 'elysia'
import { EVENT_TYPES } from '../../src/events/catalog'

export const MAX_WEBHOOKS_PER_OWNER = 50

const eventsField = t.Array(t.String({ minLength: 1, maxLength: 64 }), {
  minItems: 1, maxItems: 50, description: `Event types to receive, or ["*"] for all. Valid: ${EVENT_TYPES.join(', ')}`,
})

export const CreateWebhook = t.Object({
  url: t.String({ minLength: 1, maxLength: 2048, description: 'https URL (http only for hosts in AGENTBASE_OUTBOUND_ALLOW)' }),
  events: eventsField,
  secret: t.Optional(t.String({ minLength: 1, maxLength: 200, description: 'whsec_ + base64 of 24-64 bytes; omit and we generate one (shown once)' })),
  description: t.Optional(t.Nullable(t.String({ maxLength: 500 }))),
}, { additionalProperties: false })

export const UpdateWebhook = t.Object({
  url: t.Optional(t.String({ minLength: 1, maxLength: 2048 })),
  events: t.Optional(eventsField),
  secret: t.Optional(t.String({ minLength: 1, maxLength: 200, description: 'Replace the signing secret' })),
  description: t.Optional(t.Nullable(t.String({ maxLength: 500 }))),
  enabled: t.Optional(t.Boolean({ description: 'Re-enabling clears disabled_reason and failing_since' })),
}, { additionalProperties: false })

export const Webhook = t.Object({
  id: t.String(),
  bot_account_id: t.Nullable(t.String()),
  url: t.String(),
  events: t.Array(t.String()),
  description: t.Nullable(t.String()),
  enabled: t.Boolean(),
  disabled_reason: t.Nullable(t.String()),
  failing_since: t.Nullable(t.String()),
  has_secret: t.Boolean(),
  created_at: t.String(),
  updated_at: t.String(),
})
export type WebhookView = typeof Webhook.static
export type CreateWebhookInput = typeof CreateWebhook.static
export type UpdateWebhookInput = typeof UpdateWebhook.static

export const WebhookEnvelope = t.Object({ webhook: Webhook })
export const CreatedWebhook = t.Object({
  webhook: Webhook,
  secret: t.Optional(t.String({ description: 'The generated whsec_ signing secret, shown only in this response' })),
})

export const DeliveryStatus = t.Union([t.Literal('pending'), t.Literal('success'), t.Literal('failed')])

export const Attempt = t.Object({
  attempt: t.Integer(),
  status: t.Nullable(t.Integer({ description: 'HTTP status, null when no response' })),
  latency_ms: t.Integer(),
  response_excerpt: t.Nullable(t.String()),
  error: t.Nullable(t.String()),
  created_at: t.String(),
})

export const Delivery = t.Object({
  id: t.String({ description: 'Also the webhook-id header: the same on every retry' }),
  webhook_id: t.String(),
  event_id: t.String(),
  event_type: t.String(),
  status: DeliveryStatus,
  attempts: t.Integer(),
  next_attempt_at: t.Nullable(t.String()),
  last_status: t.Nullable(t.Integer()),
  last_latency_ms: t.Nullable(t.Integer()),
  last_error: t.Nullable(t.String()),
  delivered_at: t.Nullable(t.String()),
  created_at: t.String(),
  updated_at: t.String(),
  payload: t.Unknown({ description: 'The body sent: { type, timestamp, data }' }),
  attempt_log: t.Array(Attempt),
})
export type DeliveryView = typeof Delivery.static

export const DeliveryEnvelope = t.Object({ delivery: Delivery })
export const DeliveryList = t.Object({ deliveries: t.Array(Delivery) })
export const DeliveriesQuery = t.Object({
  status: t.Optional(DeliveryStatus),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 200, description: 'Most recent first (default 50)' })),
})

export const EventCatalog = t.Object({
  events: t.Array(t.Object({
    type: t.String(), description: t.String(),
    bot_account_scope: t.Nullable(t.String({ description: "A bot account's webhooks receive this event (when the account did not cause it) only with this scope" })),
    example: t.Unknown(),
  })),
  format: t.Object({ body: t.String(), headers: t.Array(t.String()), retries: t.Array(t.String()), bot_accounts: t.String() }),
})

export const WebhookParams = t.Object({ id: t.String({ minLength: 1, maxLength: 64 }) })
export const BotWebhookParams = t.Object({ botId: t.String({ minLength: 1, maxLength: 64 }), webhookId: t.String({ minLength: 1, maxLength: 64 }) })
export const BotParams = t.Object({ botId: t.String({ minLength: 1, maxLength: 64 }) })
export const DeliveryParams = t.Object({ deliveryId: t.String({ minLength: 1, maxLength: 64 }) })
