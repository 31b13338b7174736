import type { Kernel } from '../../src/kernel'
import { ApiError, badRequest, forbidden, notFound } from '../../src/http/errors'
import type { Principal } from '../../src/auth/principal'
import { nowIso } from '../../src/clock'
import * as store from './store'
import { MEMORY_MAX_KEYS, MEMORY_VALUE_MAX_BYTES } from './model'

/** Memory is a bot account's own: these routes take its `bot_` key; owners read it under /api/bot/manage/:botId/memory. */
export function requireBot(who: Principal): string {
  if (who.via !== 'bot_account' || !who.botAccountId) {
    throw forbidden('Memory routes are called with a bot account key (bot_...); owners can read memory at GET /api/bot/manage/:botId/memory')
  }
  return who.botAccountId
}

const item = (r: store.MemoryRow) => ({ key: r.key, value: JSON.parse(r.value) as unknown, updated_at: r.updated_at })

export function get(k: Kernel, botId: string, key: string) {
  const r = store.memoryGet(k.db, botId, key)
  if (!r) throw notFound(`Memory key "${key}"`)
  return item(r)
}

export function list(k: Kernel, botId: string, prefix = '', limit = 100) {
  const items = store.memoryList(k.db, botId, prefix, limit).map(item)
  return { items, count: items.length }
}

export function put(k: Kernel, botId: string, key: string, value: unknown) {
  if (value === undefined) throw badRequest('value is required: send {"value": <any JSON>}', { value: 'is required' })
  const json = JSON.stringify(value)
  const bytes = Buffer.byteLength(json)
  if (bytes > MEMORY_VALUE_MAX_BYTES) {
    throw new ApiError(413, `Memory value too large: ${bytes} bytes serialised (max ${MEMORY_VALUE_MAX_BYTES} bytes, 64 KB)`, 'value_too_large', { value: 'must be at most 64 KB as JSON' })
  }
  const at = nowIso(k.clock)
  k.db.transaction(() => {
    if (!store.memoryGet(k.db, botId, key) && store.memoryCount(k.db, botId) >= MEMORY_MAX_KEYS) {
      throw new ApiError(409, `Memory is full (${MEMORY_MAX_KEYS} keys); delete keys before adding new ones`, 'memory_full')
    }
    store.memoryPut(k.db, botId, key, json, at)
  })()
  return { key, value, updated_at: at }
}

export function remove(k: Kernel, botId: string, key: string) {
  if (!store.memoryDelete(k.db, botId, key)) throw notFound(`Memory key "${key}"`)
}
