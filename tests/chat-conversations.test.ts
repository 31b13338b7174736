import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chatEnv, conversation, userWithWorkspace, type Who } from './chat-kit'
import { expectRefused } from './helpers'
import type { EpEnv } from './endpoints-kit'

/** /api/chat/conversations: create, list (pagination, order), read, rename, delete; scopes; others' data is 404. */

let env: EpEnv
let alice: Who
let bob: Who
const t = () => env.t

beforeAll(async () => {
  env = await chatEnv()
  alice = await userWithWorkspace(env.t)
  bob = await userWithWorkspace(env.t)
})
afterAll(() => env.close())

describe('create and read', () => {
  test('201 with metadata; the default workspace is the caller\'s first; a system prompt is saved as a system message', async () => {
    const second = await t().req('POST', '/api/workspaces', { token: alice.token, body: { name: 'second' } })
    expect(second.status).toBe(201)
    const r = await t().req('POST', '/api/chat/conversations', { token: alice.token, body: { title: 'HubSpot Integration Project', system_prompt: 'Be terse.', provider: 'openai' } })
    expect(r.status).toBe(201)
    const c = r.body.conversation
    expect(c.id).toMatch(/^conv_[A-Za-z0-9_-]{20}$/)
    expect(c.title).toBe('HubSpot Integration Project')
    expect(c.workspace_id).toBe(alice.ws)
    expect(c.provider).toBe('openai')
    expect(c.model).toBe('gpt-4o-mini')
    expect(c.message_count).toBe(1)
    expect(c.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/)
    const d = await t().req('GET', `/api/chat/conversations/${c.id}`, { token: alice.token })
    expect(d.status).toBe(200)
    expect(d.body.conversation.system_prompt).toBe('Be terse.')
    expect(d.body.messages.map((m: any) => [m.role, m.content])).toEqual([['system', 'Be terse.']])
    expect(d.body.has_more).toBe(false)
    const m = await t().req('GET', `/api/chat/conversations/${c.id}/messages`, { token: alice.token })
    expect(m.body.messages[0]).toMatchObject({ role: 'system', conversation_id: c.id, status: 'completed', tool_call_id: null, tokens_used: 0 })
    expect(m.body.total).toBe(1)
  })

  test('a named workspace must be yours; a model name works as provider; unknown providers are 400', async () => {
    expect((await t().req('POST', '/api/chat/conversations', { token: alice.token, body: { workspace_id: bob.ws } })).status).toBe(404)
    const r = await t().req('POST', '/api/chat/conversations', { token: alice.token, body: { provider: 'claude-3-5-sonnet' } })
    expect(r.body.conversation).toMatchObject({ provider: 'anthropic', model: 'claude-3-5-sonnet', title: null })
    const modelOnly = await t().req('POST', '/api/chat/conversations', { token: alice.token, body: { model: 'gpt-4.1-mini' } })
    expect(modelOnly.body.conversation).toMatchObject({ provider: 'openai', model: 'gpt-4.1-mini' })
    const bad = await t().req('POST', '/api/chat/conversations', { token: alice.token, body: { provider: 'nonsense' } })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatch(/Unknown provider/)
  })
})

describe('list, pagination', () => {
  test('most recently updated first, limit/offset and cursor pages cover everything once', async () => {
    const u = await userWithWorkspace(t())
    const ids: string[] = []
    for (let i = 0; i < 5; i++) { ids.push(await conversation(t(), u, { title: `c${i}` })); await Bun.sleep(2) }
    // Renaming the oldest makes it the most recently updated.
    expect((await t().req('PUT', `/api/chat/conversations/${ids[0]}`, { token: u.token, body: { title: 'renamed' } })).status).toBe(200)
    const all = await t().req('GET', '/api/chat/conversations', { token: u.token })
    expect(all.body.conversations.map((c: any) => c.id)).toEqual([ids[0], ids[4], ids[3], ids[2], ids[1]])
    expect(all.body.total).toBe(5)
    expect(Object.keys(all.body.conversations[0]).sort()).toEqual(['created_at', 'id', 'message_count', 'model', 'provider', 'title', 'updated_at', 'workspace_id'])
    const p1 = await t().req('GET', '/api/chat/conversations?limit=2', { token: u.token })
    expect(p1.body.conversations.map((c: any) => c.id)).toEqual([ids[0], ids[4]])
    const p2 = await t().req('GET', `/api/chat/conversations?limit=2&cursor=${p1.body.next_cursor}`, { token: u.token })
    const p3 = await t().req('GET', `/api/chat/conversations?limit=2&cursor=${p2.body.next_cursor}`, { token: u.token })
    expect([...p2.body.conversations, ...p3.body.conversations].map((c: any) => c.id)).toEqual([ids[3], ids[2], ids[1]])
    expect(p3.body.next_cursor).toBeNull()
    const off = await t().req('GET', '/api/chat/conversations?limit=2&offset=4', { token: u.token })
    expect(off.body.conversations.map((c: any) => c.id)).toEqual([ids[1]])
    expect((await t().req('GET', '/api/chat/conversations?cursor=garbage', { token: u.token })).status).toBe(400)
    // Bob sees none of them.
    const b = await t().req('GET', '/api/chat/conversations', { token: bob.token })
    expect(b.body.conversations.some((c: any) => ids.includes(c.id))).toBe(false)
  })
})

describe('rename and delete', () => {
  test('PUT and PATCH rename; DELETE removes the conversation and its messages', async () => {
    const id = await conversation(t(), alice, { title: 'old', system_prompt: 'sys' })
    const p = await t().req('PATCH', `/api/chat/conversations/${id}`, { token: alice.token, body: { title: 'Marketing Automation Campaign v2' } })
    expect(p.status).toBe(200)
    expect(p.body.conversation.title).toBe('Marketing Automation Campaign v2')
    expect((await t().req('PUT', `/api/chat/conversations/${id}`, { token: alice.token, body: { title: '  ' } })).status).toBe(400)
    expect((await t().req('PUT', `/api/chat/conversations/${id}`, { token: alice.token, body: {} })).status).toBe(400)
    const d = await t().req('DELETE', `/api/chat/conversations/${id}`, { token: alice.token })
    expect(d.body).toEqual({ deleted: true })
    expect((await t().req('GET', `/api/chat/conversations/${id}`, { token: alice.token })).status).toBe(404)
    expect(t().k.db.query('SELECT count(*) AS n FROM chat_messages WHERE conversation_id = ?').get(id)).toEqual({ n: 0 })
  })
})

describe('isolation and scopes', () => {
  let conv = ''
  beforeAll(async () => { conv = await conversation(t(), alice, { title: 'private' }) })
  for (const [method, path, body] of [
    ['GET', () => `/api/chat/conversations/${conv}`, undefined],
    ['PUT', () => `/api/chat/conversations/${conv}`, { title: 'x' }],
    ['PATCH', () => `/api/chat/conversations/${conv}`, { title: 'x' }],
    ['DELETE', () => `/api/chat/conversations/${conv}`, undefined],
    ['GET', () => `/api/chat/conversations/${conv}/messages`, undefined],
    ['POST', () => `/api/chat/conversations/${conv}/messages`, { content: 'hi' }],
    ['POST', () => `/api/chat/conversations/${conv}/explain-tools`, { content: 'hi' }],
    ['POST', () => `/api/chat/conversations/${conv}/explain-intent`, { content: 'hi' }],
    ['POST', () => `/api/chat/conversations/${conv}/validate-tool-call`, { name: 'current_time', arguments: {} }],
    ['GET', () => `/api/chat/conversations/${conv}/messages/msg_x/files`, undefined],
  ] as const) {
    test(`${method} ${path().replace(conv, ':id')} as another user is 404`, async () => {
      await expectRefused(t(), { method, path, as: () => bob.token, body, status: 404, error: /not found/ })
    })
  }

  test('API tokens need chat.read / chat.write; without a credential 401', async () => {
    const mk = async (scopes: string[]) => (await t().req('POST', '/api/tokens', { token: alice.token, body: { name: 's', scopes } })).body.key as string
    const readOnly = await mk(['chat.read'])
    const writer = await mk(['chat.read', 'chat.write'])
    expect((await t().req('GET', '/api/chat/conversations', { token: readOnly })).status).toBe(200)
    const denied = await t().req('POST', '/api/chat/conversations', { token: readOnly, body: { title: 'x' } })
    expect(denied.status).toBe(403)
    expect(denied.body.error).toContain('chat.write')
    expect((await t().req('POST', '/api/chat/conversations', { token: writer, body: { title: 'x' } })).status).toBe(201)
    const other = await mk(['bots.read'])
    expect((await t().req('GET', `/api/chat/conversations/${conv}`, { token: other })).status).toBe(403)
    expect((await t().req('GET', '/api/chat/conversations')).status).toBe(401)
  })
})
