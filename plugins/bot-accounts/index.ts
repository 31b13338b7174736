import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import { setBodyLimit } from '../../src/http/body'
import * as accounts from './service'
import * as memory from './memory'
import {
  ApiKeyEnvelope, BotAccount, BotIdParams, CreateBotAccount, CreatedEnvelope, MemoryItem, MemoryKeyParams, MemoryList,
  MemoryListQuery, PutMemory, UpdateBotAccount,
} from './model'

// {"value": ...} around a value of at most 64 KB; the value itself is measured after parsing (413 past 64 KB).
setBodyLimit('PUT', '/api/bot/memory/:key', 128 * 1024)

const Deleted = t.Object({ deleted: t.Boolean() })

/** Management of bot accounts by their owner (login session or personal token; never a bot key). */
const managePlugin = (k: Kernel) =>
  new Elysia({ name: 'bot-accounts', seed: k.seed, prefix: '/api/bot/manage', detail: { tags: ['Bot accounts'] } })
    .use(authGuard(k))
    .post('', ({ principal, body, set }) => {
      const created = accounts.create(k, principal, body)
      set.status = 201
      return created
    }, {
      auth: 'bots.write', body: CreateBotAccount, response: { 201: CreatedEnvelope },
      detail: { summary: 'Create a bot account (the API key is shown only in this response)' },
    })
    .get('', ({ principal }) => accounts.list(k, principal), {
      auth: 'bots.read', response: t.Array(BotAccount), detail: { summary: 'List your bot accounts' },
    })
    .get('/:botId', ({ principal, params }) => accounts.get(k, principal, params.botId), {
      auth: 'bots.read', params: BotIdParams, response: BotAccount, detail: { summary: 'Get a bot account' },
    })
    .patch('/:botId', ({ principal, params, body }) => accounts.update(k, principal, params.botId, body), {
      auth: 'bots.write', params: BotIdParams, body: UpdateBotAccount, response: BotAccount,
      detail: { summary: 'Update a bot account (name, description, avatarUrl, scopes, isActive, rateLimitRpm)' },
    })
    .delete('/:botId', ({ principal, params }) => {
      accounts.remove(k, principal, params.botId)
      return { deleted: true }
    }, {
      auth: 'bots.write', params: BotIdParams, response: Deleted,
      detail: { summary: 'Delete a bot account with its webhooks, deliveries and memory' },
    })
    .post('/:botId/regenerate-key', ({ principal, params }) => ({ apiKey: accounts.regenerateKey(k, principal, params.botId) }), {
      auth: 'bots.write', params: BotIdParams, response: ApiKeyEnvelope,
      detail: { summary: 'Generate a new API key; the old one stops working at once' },
    })
    .get('/:botId/memory', ({ principal, params, query }) => {
      const bot = accounts.requireOwned(k, principal, params.botId)
      return memory.list(k, bot.id, query.prefix, query.limit)
    }, {
      auth: 'memory.read', params: BotIdParams, query: MemoryListQuery, response: MemoryList,
      detail: { summary: "Read a bot account's memory (owner view)" },
    })
    .get('/:botId/memory/:key', ({ principal, params }) => {
      const bot = accounts.requireOwned(k, principal, params.botId)
      return memory.get(k, bot.id, params.key)
    }, {
      auth: 'memory.read', params: t.Composite([BotIdParams, MemoryKeyParams]), response: MemoryItem,
      detail: { summary: "Read one key of a bot account's memory (owner view)" },
    })

/** The bot's own key-value memory, called with its `bot_` key. */
const memoryPlugin = (k: Kernel) =>
  new Elysia({ name: 'bot-memory', seed: k.seed, prefix: '/api/bot/memory', detail: { tags: ['Bot accounts'] } })
    .use(authGuard(k))
    .get('', ({ principal, query }) => memory.list(k, memory.requireBot(principal), query.prefix, query.limit), {
      auth: 'memory.read', query: MemoryListQuery, response: MemoryList, detail: { summary: 'List memory keys (optionally by prefix)' },
    })
    .get('/:key', ({ principal, params }) => memory.get(k, memory.requireBot(principal), params.key), {
      auth: 'memory.read', params: MemoryKeyParams, response: MemoryItem, detail: { summary: 'Read a memory key' },
    })
    .put('/:key', ({ principal, params, body }) => memory.put(k, memory.requireBot(principal), params.key, body.value), {
      auth: 'memory.write', params: MemoryKeyParams, body: PutMemory, response: MemoryItem,
      detail: { summary: 'Write a memory key: {"value": <any JSON up to 64 KB>}' },
    })
    .delete('/:key', ({ principal, params }) => {
      memory.remove(k, memory.requireBot(principal), params.key)
      return { deleted: true }
    }, { auth: 'memory.write', params: MemoryKeyParams, response: Deleted, detail: { summary: 'Delete a memory key' } })

export const botAccountsPlugin = (k: Kernel) =>
  new Elysia({ name: 'bot-accounts-all', seed: k.seed }).use(managePlugin(k)).use(memoryPlugin(k))
