import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import * as webhooks from './service'
import {
  BotParams, BotWebhookParams, CreateWebhook, CreatedWebhook, DeliveriesQuery, DeliveryEnvelope, DeliveryList, DeliveryParams,
  EventCatalog, UpdateWebhook, WebhookEnvelope, WebhookParams, Webhook,
} from './model'

const Deleted = t.Object({ deleted: t.Boolean() })
const WebhookList = t.Object({ webhooks: t.Array(Webhook) })

/** User-level webhooks: `/api/webhooks` (a bot key here reaches only its own account's webhooks). */
const userPlugin = (k: Kernel) =>
  new Elysia({ name: 'webhooks', seed: k.seed, prefix: '/api/webhooks', detail: { tags: ['Webhooks'] } })
    .use(authGuard(k))
    .get('/events', () => webhooks.catalog(), {
      auth: true, response: EventCatalog, detail: { summary: 'The event catalog: names, descriptions, payload examples, delivery format' },
    })
    .get('', ({ principal }) => ({ webhooks: webhooks.list(k, webhooks.userReach(principal)) }), {
      auth: 'webhooks.manage', response: WebhookList, detail: { summary: 'List your webhooks' },
    })
    .post('', async ({ principal, body, set }) => {
      const created = await webhooks.create(k, webhooks.userReach(principal), body)
      set.status = 201
      return created
    }, {
      auth: 'webhooks.manage', body: CreateWebhook, response: { 201: CreatedWebhook },
      detail: { summary: 'Register a webhook (a generated secret is shown only in this response)' },
    })
    .get('/:id', ({ principal, params }) => ({ webhook: webhooks.get(k, webhooks.userReach(principal), params.id) }), {
      auth: 'webhooks.manage', params: WebhookParams, response: WebhookEnvelope, detail: { summary: 'Get a webhook' },
    })
    .patch('/:id', async ({ principal, params, body }) => ({ webhook: await webhooks.update(k, webhooks.userReach(principal), params.id, body) }), {
      auth: 'webhooks.manage', params: WebhookParams, body: UpdateWebhook, response: WebhookEnvelope,
      detail: { summary: 'Update a webhook (url, events, secret, description, enabled)' },
    })
    .delete('/:id', ({ principal, params }) => {
      webhooks.remove(k, webhooks.userReach(principal), params.id)
      return { deleted: true }
    }, { auth: 'webhooks.manage', params: WebhookParams, response: Deleted, detail: { summary: 'Delete a webhook and its delivery log' } })
    .post('/:id/test', ({ principal, params, set }) => {
      set.status = 202
      return { delivery: webhooks.sendTest(k, webhooks.userReach(principal), params.id) }
    }, {
      auth: 'webhooks.manage', params: WebhookParams, response: { 202: DeliveryEnvelope },
      detail: { summary: 'Send a webhook.test event now (follow it in the deliveries log)' },
    })
    .get('/:id/deliveries', ({ principal, params, query }) => ({ deliveries: webhooks.listDeliveries(k, webhooks.userReach(principal), params.id, query.status, query.limit) }), {
      auth: 'webhooks.manage', params: WebhookParams, query: DeliveriesQuery, response: DeliveryList,
      detail: { summary: 'Delivery history with every attempt (status, latency, response excerpt, error)' },
    })
    .post('/deliveries/:deliveryId/retry', ({ principal, params, set }) => {
      set.status = 202
      return { delivery: webhooks.retryDelivery(k, webhooks.userReach(principal), params.deliveryId) }
    }, {
      auth: 'webhooks.manage', params: DeliveryParams, response: { 202: DeliveryEnvelope },
      detail: { summary: 'Send a delivery again now (same webhook-id and body, fresh retry schedule)' },
    })

/** Bot-level webhooks under the bot accounts management API (owners only). */
const botPlugin = (k: Kernel) =>
  new Elysia({ name: 'bot-webhooks', seed: k.seed, prefix: '/api/bot/manage/:botId/webhooks', detail: { tags: ['Bot accounts'] } })
    .use(authGuard(k))
    .get('', ({ principal, params }) => ({ webhooks: webhooks.list(k, webhooks.botReach(k, principal, params.botId)) }), {
      auth: 'webhooks.manage', params: BotParams, response: WebhookList, detail: { summary: "List a bot account's webhooks" },
    })
    .post('', async ({ principal, params, body, set }) => {
      const created = await webhooks.create(k, webhooks.botReach(k, principal, params.botId), body)
      set.status = 201
      return created
    }, {
      auth: 'webhooks.manage', params: BotParams, body: CreateWebhook, response: { 201: CreatedWebhook },
      detail: { summary: 'Create a webhook for a bot account (a generated secret is shown only in this response)' },
    })
    .patch('/:webhookId', async ({ principal, params, body }) => ({ webhook: await webhooks.update(k, webhooks.botReach(k, principal, params.botId), params.webhookId, body) }), {
      auth: 'webhooks.manage', params: BotWebhookParams, body: UpdateWebhook, response: WebhookEnvelope, detail: { summary: "Update a bot account's webhook" },
    })
    .delete('/:webhookId', ({ principal, params }) => {
      webhooks.remove(k, webhooks.botReach(k, principal, params.botId), params.webhookId)
      return { deleted: true }
    }, { auth: 'webhooks.manage', params: BotWebhookParams, response: Deleted, detail: { summary: "Delete a bot account's webhook" } })
    .post('/:webhookId/test', ({ principal, params, set }) => {
      set.status = 202
      return { delivery: webhooks.sendTest(k, webhooks.botReach(k, principal, params.botId), params.webhookId) }
    }, {
      auth: 'webhooks.manage', params: BotWebhookParams, response: { 202: DeliveryEnvelope }, detail: { summary: 'Send a test event to a webhook' },
    })
    .get('/:webhookId/deliveries', ({ principal, params, query }) => ({
      deliveries: webhooks.listDeliveries(k, webhooks.botReach(k, principal, params.botId), params.webhookId, query.status, query.limit),
    }), {
      auth: 'webhooks.manage', params: BotWebhookParams, query: DeliveriesQuery, response: DeliveryList, detail: { summary: 'View delivery history for a webhook' },
    })

export const webhooksPlugin = (k: Kernel) =>
  new Elysia({ name: 'webhooks-all', seed: k.seed }).use(userPlugin(k)).use(botPlugin(k))
