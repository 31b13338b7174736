import { randomBytes } from 'node:crypto'
import { Webhook as Signer } from 'standardwebhooks'
import type { Kernel } from '../../src/kernel'
import { ApiError, badRequest, conflict, forbidden, notFound } from '../../src/http/errors'
import type { Principal } from '../../src/auth/principal'
import { newId } from '../../src/db/ids'
import { iso, nowIso } from '../../src/clock'
import { EVENT_CATALOG, EVENT_TYPES, unknownEvents } from '../../src/events/catalog'
import { deliveries } from '../../src/events/delivery'
import { RETRY_SCHEDULE_MS, deliveryId, isoMs, payloadOf } from '../../src/events/delivery-store'
import * as botAccounts from '../bot-accounts/service'
import * as store from './store'
import { MAX_WEBHOOKS_PER_OWNER, type CreateWebhookInput, type DeliveryView, type UpdateWebhookInput, type WebhookView } from './model'

/**
 * Which webhooks a caller reaches. ownerId null: every owner (admin tokens). botAccountId set: only
 * that bot account's webhooks (bot-level routes, or a bot key on the user-level routes).
 */
export interface Reach { ownerId: string | null; createOwner: string; botAccountId?: string }

/**
 * User-level routes: a person reaches all their webhooks; a bot key only its own account's. A workspace token
 * reaches none: owner-level webhooks receive every workspace's events, which is more than the token may read.
 */
export function userReach(who: Principal): Reach {
  if (who.via === 'bot_account' && who.botAccountId) return { ownerId: who.userId, createOwner: who.userId, botAccountId: who.botAccountId }
  if (who.workspaceId) {
    throw forbidden("A workspace token cannot list or create owner-level webhooks (they receive every workspace's events); use a login session or a personal token, or a bot account's webhooks")
  }
  return { ownerId: who.instanceWide ? null : who.userId, createOwner: who.userId }
}

/** Bot-level routes (/api/bot/manage/:botId/webhooks): the owner of that bot account, never a bot key. */
export function botReach(k: Kernel, who: Principal, botId: string): Reach {
  const bot = botAccounts.requireOwned(k, who, botId)
  return { ownerId: bot.owner_id, createOwner: bot.owner_id, botAccountId: bot.id }
}

const reaches = (reach: Reach, row: store.WebhookRow) =>
  (!reach.ownerId || row.owner_id === reach.ownerId) && (!reach.botAccountId || row.bot_account_id === reach.botAccountId)

function requireWebhook(k: Kernel, reach: Reach, id: string): store.WebhookRow {
  const row = store.getById(k.db, id)
  if (!row || !reaches(reach, row)) throw notFound('Webhook')
  return row
}

async function checkUrl(k: Kernel, url: string): Promise<string> {
  const u = await k.outbound.check(url)
  if (u.protocol !== 'https:' && !k.outbound.isAllowlisted(url)) {
    throw badRequest('Webhook URLs must use https (plain http only for hosts in AGENTBASE_OUTBOUND_ALLOW)', { url: 'must use https' })
  }
  if (u.username || u.password) throw badRequest('Webhook URLs must not contain credentials; verify deliveries with the signing secret instead', { url: 'must not contain credentials' })
  return u.toString()
}

function checkEvents(events: string[]): string {
  const bad = unknownEvents(events)
  if (bad) throw badRequest(bad, { events: 'contains unknown events' })
  return JSON.stringify([...new Set(events)])
}

/** Standard Webhooks secrets: `whsec_` + base64 of 24-64 bytes. */
function checkSecret(secret: string): string {
  const body = secret.startsWith('whsec_') ? secret.slice(6) : ''
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(body) ? Buffer.from(body, 'base64').length : 0
  let usable = bytes >= 24 && bytes <= 64
  if (usable) { try { new Signer(secret) } catch { usable = false } }
  if (!usable) throw badRequest('secret must be "whsec_" followed by base64 of 24 to 64 random bytes (Standard Webhooks); omit it and we generate one', { secret: 'must be whsec_ + base64 of 24-64 bytes' })
  return secret
}

export const generateSecret = () => 'whsec_' + randomBytes(32).toString('base64')

export function list(k: Kernel, reach: Reach): WebhookView[] {
  return store.list(k.db, reach.ownerId, reach.botAccountId).map(store.toView)
}

export const get = (k: Kernel, reach: Reach, id: string) => store.toView(requireWebhook(k, reach, id))

export async function create(k: Kernel, reach: Reach, input: CreateWebhookInput): Promise<{ webhook: WebhookView; secret?: string }> {
  const events = checkEvents(input.events)
  const secret = input.secret !== undefined ? checkSecret(input.secret) : generateSecret()
  const url = await checkUrl(k, input.url)
  if (store.countOwned(k.db, reach.createOwner) >= MAX_WEBHOOKS_PER_OWNER) {
    throw new ApiError(409, `You already have ${MAX_WEBHOOKS_PER_OWNER} webhooks, the most allowed; delete one first`, 'limit_reached')
  }
  const now = nowIso(k.clock)
  const row: store.WebhookRow = {
    id: newId('wh'), owner_id: reach.createOwner, bot_account_id: reach.botAccountId ?? null, url, events, secret: k.secrets.seal(secret),
    description: input.description ?? null, enabled: 1, disabled_reason: null, failing_since: null, created_at: now, updated_at: now,
  }
  store.insert(k.db, row)
  return input.secret === undefined ? { webhook: store.toView(row), secret } : { webhook: store.toView(row) }
}

export async function update(k: Kernel, reach: Reach, id: string, patch: UpdateWebhookInput): Promise<WebhookView> {
  requireWebhook(k, reach, id)
  const events = patch.events ? checkEvents(patch.events) : null
  const sealed = patch.secret !== undefined ? k.secrets.seal(checkSecret(patch.secret)) : null
  const url = patch.url !== undefined ? await checkUrl(k, patch.url) : null
  const row = requireWebhook(k, reach, id) // re-read after the awaited URL check
  const next: store.WebhookRow = {
    ...row,
    url: url ?? row.url,
    events: events ?? row.events,
    secret: sealed ?? row.secret,
    description: patch.description !== undefined ? patch.description : row.description,
    updated_at: nowIso(k.clock),
  }
  if (patch.enabled === true) Object.assign(next, { enabled: 1, disabled_reason: null, failing_since: null })
  if (patch.enabled === false && row.enabled === 1) Object.assign(next, { enabled: 0, disabled_reason: 'Disabled by its owner' })
  store.update(k.db, next)
  deliveries(k).wake() // the worker re-reads: paused deliveries resume, disabled ones stop at once
  return store.toView(next)
}

export function remove(k: Kernel, reach: Reach, id: string) {
  store.remove(k.db, requireWebhook(k, reach, id).id)
  deliveries(k).wake()
}

/** Deliveries to a disabled webhook, or one of an inactive bot account, would wait: say so instead. */
function requireSendable(k: Kernel, hook: store.WebhookRow, action: string) {
  if (!hook.enabled) throw conflict(`Webhook is disabled${hook.disabled_reason ? ` (${hook.disabled_reason})` : ''}; enable it with PATCH {"enabled": true} ${action}`)
  if (hook.bot_account_id && !store.botAccountActive(k.db, hook.bot_account_id)) {
    throw conflict(`The webhook's bot account is inactive, so its deliveries are paused; re-activate it (PATCH /api/bot/manage/${hook.bot_account_id} {"isActive": true}) ${action}`)
  }
}

/** Queues a `webhook.test` delivery to this webhook (whatever its event filter); the worker sends it at once. */
export function sendTest(k: Kernel, reach: Reach, id: string): DeliveryView {
  const hook = requireWebhook(k, reach, id)
  requireSendable(k, hook, 'first')
  const nowMs = k.clock.now()
  const data = { webhook_id: hook.id, message: 'This is a test event from Agentbase.' }
  const delivery = { id: deliveryId(nowMs), webhook_id: hook.id, event_id: newId('evt'), event_type: 'webhook.test', payload: payloadOf('webhook.test', iso(nowMs), JSON.stringify(data)), now: isoMs(nowMs) }
  store.insertDelivery(k.db, delivery)
  deliveries(k).wake()
  return store.deliveryView(k.db, store.getDelivery(k.db, delivery.id)!)
}

export function listDeliveries(k: Kernel, reach: Reach, id: string, status?: string, limit = 50): DeliveryView[] {
  const hook = requireWebhook(k, reach, id)
  return store.listDeliveries(k.db, hook.id, status ?? null, limit).map((r) => store.deliveryView(k.db, r))
}

/** Sends a delivery again now, with the same webhook-id and body and a fresh retry schedule. */
export function retryDelivery(k: Kernel, reach: Reach, deliveryId: string): DeliveryView {
  const d = store.getDelivery(k.db, deliveryId)
  const hook = d && store.getById(k.db, d.webhook_id)
  // Someone else's delivery answers exactly like a missing one (not "Webhook not found"): no existence oracle.
  if (!d || !hook || !reaches(reach, hook)) throw notFound('Delivery')
  requireSendable(k, hook, 'before retrying')
  store.requeue(k.db, d.id, isoMs(k.clock.now()))
  deliveries(k).wake()
  return store.deliveryView(k.db, store.getDelivery(k.db, d.id)!)
}

const human = (ms: number) => (ms === 0 ? 'immediately' : ms < 60_000 ? `${ms / 1000} s` : ms < 3600_000 ? `${ms / 60_000} min` : `${ms / 3600_000} h`)

export function catalog() {
  return {
    events: EVENT_TYPES.map((type) => ({ type, description: EVENT_CATALOG[type].description, bot_account_scope: EVENT_CATALOG[type].scope, example: { type, timestamp: '2026-03-14T10:00:00Z', data: EVENT_CATALOG[type].example } })),
    format: {
      body: 'JSON { "type": <event type>, "timestamp": <ISO 8601 UTC>, "data": <event data> }, signed per Standard Webhooks 1.0',
      headers: [
        'webhook-id: the delivery id, identical on every retry (use it to deduplicate)',
        'webhook-timestamp: Unix seconds of this attempt',
        'webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}" with the secret>',
      ],
      retries: [
        `attempts: ${RETRY_SCHEDULE_MS.map(human).join(', ')} (plus up to 10% jitter), then the delivery is failed`,
        '2xx is success; 3xx counts as failure (redirects are not followed); 410 disables the webhook; Retry-After is honoured',
        'a webhook failing continuously for AGENTBASE_WEBHOOK_DISABLE_AFTER_DAYS days (default 5) is disabled with a disabled_reason',
      ],
      bot_accounts: "a bot account's webhooks receive the events the account caused, plus the owner's events whose bot_account_scope the account holds",
    },
  }
}
