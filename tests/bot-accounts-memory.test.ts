// Bot account memory: GET/PUT/DELETE /api/bot/memory/:key and GET /api/bot/memory?prefix= with the bot's
// own key (memory.read / memory.write), the 64 KB value cap, the key-count cap, and the owner's read view.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { tableCounts, testApp } from './helpers'
import { MEMORY_MAX_KEYS } from '../plugins/bot-accounts/model'

const t = testApp()
let alice: { token: string; id: string }
let bob: { token: string; id: string }
let botId: string
let rw: string // memory.read + memory.write
let ro: string // default read-only scopes

beforeAll(async () => {
  alice = await t.user()
  bob = await t.user()
  const a = await t.req('POST', '/api/bot/manage', { token: alice.token, body: { name: 'Mem', slug: 'mem', scopes: ['memory.read', 'memory.write'] } })
  botId = a.body.bot.id
  rw = a.body.apiKey
  ro = (await t.req('POST', '/api/bot/manage', { token: alice.token, body: { name: 'RO', slug: 'mem-ro' } })).body.apiKey
})
afterAll(() => t.close())

test('PUT then GET answers { key, value, updated_at }; values are any JSON', async () => {
  for (const [key, value] of [['prefs:theme', { dark: true, size: 12 }], ['prefs:lang', 'en'], ['count', 3], ['list', [1, 'two', null]], ['nothing', null], ['flag', false]] as const) {
    const put = await t.req('PUT', `/api/bot/memory/${encodeURIComponent(key)}`, { token: rw, body: { value } })
    expect(put.status).toBe(200)
    expect(put.body.key).toBe(key)
    expect(put.body.value).toEqual(value)
    const get = await t.req('GET', `/api/bot/memory/${encodeURIComponent(key)}`, { token: rw })
    expect(get.status).toBe(200)
    expect(Object.keys(get.body).sort()).toEqual(['key', 'updated_at', 'value'])
    expect(get.body).toEqual({ key, value, updated_at: expect.stringMatching(/Z$/) })
  }
  const over = await t.req('PUT', '/api/bot/memory/count', { token: rw, body: { value: 4 } })
  expect(over.body.value).toBe(4)
  expect((await t.req('GET', '/api/bot/memory/count', { token: rw })).body.value).toBe(4)
})

test('GET /api/bot/memory?prefix= lists matching keys in order (LIKE wildcards are literal)', async () => {
  await t.req('PUT', '/api/bot/memory/a%25b', { token: rw, body: { value: 1 } })
  const r = await t.req('GET', '/api/bot/memory?prefix=prefs:', { token: rw })
  expect(r.status).toBe(200)
  expect(r.body.items.map((i: any) => i.key)).toEqual(['prefs:lang', 'prefs:theme'])
  expect(r.body.count).toBe(2)
  const pct = await t.req('GET', '/api/bot/memory?prefix=%25', { token: rw })
  expect(pct.body.items).toEqual([])
  const all = await t.req('GET', '/api/bot/memory?limit=2', { token: rw })
  expect(all.body.items.length).toBe(2)
})

test('DELETE removes a key; a missing key is 404', async () => {
  expect((await t.req('DELETE', '/api/bot/memory/flag', { token: rw })).body).toEqual({ deleted: true })
  const gone = await t.req('GET', '/api/bot/memory/flag', { token: rw })
  expect(gone.status).toBe(404)
  expect(gone.body.error).toBe('Memory key "flag" not found')
  expect((await t.req('DELETE', '/api/bot/memory/flag', { token: rw })).status).toBe(404)
})

test('values up to 64 KB are stored; larger ones get 413 and write nothing', async () => {
  const fits = 'x'.repeat(64 * 1024 - 2) // + 2 quotes = exactly 64 KB serialised
  expect((await t.req('PUT', '/api/bot/memory/big', { token: rw, body: { value: fits } })).status).toBe(200)
  const before = tableCounts(t.k)
  const tooBig = await t.req('PUT', '/api/bot/memory/bigger', { token: rw, body: { value: fits + 'x' } })
  expect(tooBig.status).toBe(413)
  expect(tooBig.body.error).toMatch(/Memory value too large: 65537 bytes.*64 KB/)
  const huge = await t.req('PUT', '/api/bot/memory/huge', { token: rw, body: { value: 'y'.repeat(300_000) } })
  expect(huge.status).toBe(413)
  expect(huge.body.error).toMatch(/too large/)
  const missing = await t.req('PUT', '/api/bot/memory/nov', { token: rw, body: {} })
  expect(missing.status).toBe(400)
  expect(tableCounts(t.k)).toEqual(before)
})

test(`at most ${MEMORY_MAX_KEYS} keys per account; overwriting an existing key still works when full`, async () => {
  const ins = t.k.db.query("INSERT INTO bot_memory (bot_account_id, key, value, updated_at) VALUES (?, ?, '0', '2026-01-01T00:00:00Z')")
  const have = t.k.db.query<{ n: number }, [string]>('SELECT count(*) AS n FROM bot_memory WHERE bot_account_id = ?').get(botId)!.n
  t.k.db.transaction(() => { for (let i = have; i < MEMORY_MAX_KEYS; i++) ins.run(botId, `fill:${i}`) })()
  const full = await t.req('PUT', '/api/bot/memory/one-more', { token: rw, body: { value: 1 } })
  expect(full.status).toBe(409)
  expect(full.body.error).toMatch(/Memory is full \(1000 keys\)/)
  expect((await t.req('PUT', '/api/bot/memory/count', { token: rw, body: { value: 5 } })).status).toBe(200)
  t.k.db.query("DELETE FROM bot_memory WHERE key LIKE 'fill:%'").run()
})

test('scopes: a read-only bot reads but cannot write (403 names memory.write)', async () => {
  const r = await t.req('GET', '/api/bot/memory', { token: ro })
  expect(r.status).toBe(200)
  expect(r.body.items).toEqual([]) // its own memory, not the other account's
  const w = await t.req('PUT', '/api/bot/memory/x', { token: ro, body: { value: 1 } })
  expect(w.status).toBe(403)
  expect(w.body.error).toContain('"memory.write"')
})

test('memory routes need a bot key; people read it under /api/bot/manage/:botId/memory', async () => {
  const asUser = await t.req('GET', '/api/bot/memory/count', { token: alice.token })
  expect(asUser.status).toBe(403)
  expect(asUser.body.error).toMatch(/bot account key/)
  expect((await t.req('GET', '/api/bot/memory/count')).status).toBe(401)
  const owner = await t.req('GET', `/api/bot/manage/${botId}/memory?prefix=prefs:`, { token: alice.token })
  expect(owner.status).toBe(200)
  expect(owner.body.items.map((i: any) => i.key)).toEqual(['prefs:lang', 'prefs:theme'])
  const one = await t.req('GET', `/api/bot/manage/${botId}/memory/count`, { token: alice.token })
  expect(one.body).toMatchObject({ key: 'count', value: 5 })
  expect((await t.req('GET', `/api/bot/manage/${botId}/memory`, { token: bob.token })).status).toBe(404)
  expect((await t.req('GET', `/api/bot/manage/${botId}/memory`, { token: rw })).status).toBe(403)
})
