/** Bot CRUD and lifecycle: every route of the reference's "Bot CRUD" and "Lifecycle" with its limits. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { startFakePlatforms, type FakePlatforms } from './fixtures/fake-platforms'
import { botsEnv, createBot, userWithWorkspace, type BotsEnv, type Who } from './bots-kit'
import { handleIncoming } from '../plugins/bots/engine'
import { loadBot } from '../plugins/bots/record'

let env: BotsEnv, fake: FakePlatforms, alice: Who, bob: Who
const HEX64 = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'

beforeAll(async () => {
  fake = await startFakePlatforms()
  env = await botsEnv({ env: fake.env })
  alice = await userWithWorkspace(env.t)
  bob = await userWithWorkspace(env.t)
})
afterAll(() => { env.close(); fake.close() })

const req = (...a: Parameters<BotsEnv['t']['req']>) => env.t.req(...a)
const base = () => ({ name: 'My Bot', platform: 'custom', workspace_id: alice.ws, system_prompt: 'You are a helpful assistant.' })
const count = (table: string) => env.t.k.db.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${table}`).get()!.n

interface CreateCase { name: string; body: () => Record<string, unknown>; status: number; error?: RegExp; as?: () => Who | null }
const createCases: CreateCase[] = [
  { name: 'no token', body: base, status: 401, as: () => null },
  { name: 'no token, bad body: still 401', body: () => ({ llm_config: { nope: 1 }, name: '' }), status: 401, as: () => null },
  { name: 'name missing', body: () => ({ ...base(), name: undefined }), status: 400, error: /name/ },
  { name: 'name empty', body: () => ({ ...base(), name: '' }), status: 400, error: /name/ },
  { name: 'name at 100', body: () => ({ ...base(), name: 'n'.repeat(100) }), status: 201 },
  { name: 'name at 101', body: () => ({ ...base(), name: 'n'.repeat(101) }), status: 400, error: /name/ },
  { name: 'platform unknown', body: () => ({ ...base(), platform: 'irc' }), status: 400, error: /platform/ },
  { name: 'system_prompt missing', body: () => ({ ...base(), system_prompt: undefined }), status: 400, error: /system_prompt/ },
  { name: 'workspace missing', body: () => ({ ...base(), workspace_id: undefined }), status: 400, error: /workspace_id/ },
  { name: "someone else's workspace", body: () => ({ ...base(), workspace_id: bob.ws }), status: 404, error: /Workspace not found/ },
  { name: 'telegram without bot_token', body: () => ({ ...base(), platform: 'telegram' }), status: 400, error: /platform_config\.bot_token/ },
  { name: 'telegram with bot_token', body: () => ({ ...base(), platform: 'telegram', platform_config: { bot_token: '123:ABC' } }), status: 201 },
  { name: 'telegram secret_token 256 chars', body: () => ({ ...base(), platform: 'telegram', platform_config: { bot_token: '123:ABC', secret_token: 'a'.repeat(256) } }), status: 201 },
  { name: 'telegram secret_token 257 chars', body: () => ({ ...base(), platform: 'telegram', platform_config: { bot_token: '123:ABC', secret_token: 'a'.repeat(257) } }), status: 400, error: /secret_token/ },
  { name: 'telegram secret_token bad chars', body: () => ({ ...base(), platform: 'telegram', platform_config: { bot_token: '123:ABC', secret_token: 'no spaces!' } }), status: 400, error: /secret_token/ },
  { name: 'discord without public_key', body: () => ({ ...base(), platform: 'discord', platform_config: { application_id: '111222333444555666' } }), status: 400, error: /platform_config\.public_key/ },
  { name: 'discord public_key 63 hex', body: () => ({ ...base(), platform: 'discord', platform_config: { application_id: '111222333444555666', public_key: HEX64.slice(1) } }), status: 400, error: /public_key/ },
  { name: 'discord complete', body: () => ({ ...base(), platform: 'discord', platform_config: { application_id: '111222333444555666', public_key: HEX64 } }), status: 201 },
  { name: 'whatsapp empty', body: () => ({ ...base(), platform: 'whatsapp', platform_config: {} }), status: 400, error: /access_token.*phone_number_id.*app_secret.*verify_token/ },
  { name: 'whatsapp complete', body: () => ({ ...base(), platform: 'whatsapp', platform_config: { access_token: 'EAAG', phone_number_id: '106540352242922', app_secret: 's', verify_token: 'v' } }), status: 201 },
  { name: 'slack without signing_secret', body: () => ({ ...base(), platform: 'slack', platform_config: { bot_token: 'xoxb-1' } }), status: 400, error: /platform_config\.signing_secret/ },
  { name: 'slack complete', body: () => ({ ...base(), platform: 'slack', platform_config: { bot_token: 'xoxb-1', signing_secret: 'shh' } }), status: 201 },
  { name: 'llm_provider unknown', body: () => ({ ...base(), llm_provider: 'acme' }), status: 400, error: /llm_provider/ },
  { name: 'custom provider needs base_url', body: () => ({ ...base(), llm_provider: 'custom' }), status: 400, error: /base_url/ },
  { name: 'llm_config unknown key', body: () => ({ ...base(), llm_config: { temprature: 1 } }), status: 400, error: /llm_config/ },
  { name: 'temperature 2.1', body: () => ({ ...base(), llm_config: { temperature: 2.1 } }), status: 400, error: /temperature/ },
  { name: 'billing_mode unknown', body: () => ({ ...base(), billing_mode: 'free' }), status: 400, error: /billing_mode/ },
  { name: 'timeout_ms 999', body: () => ({ ...base(), timeout_ms: 999 }), status: 400, error: /timeout_ms/ },
  { name: 'timeout_ms 60000', body: () => ({ ...base(), timeout_ms: 60000 }), status: 201 },
  { name: 'timeout_ms 60001', body: () => ({ ...base(), timeout_ms: 60001 }), status: 400, error: /timeout_ms must be at most 60000/ },
  { name: 'max_loop_iterations 0', body: () => ({ ...base(), max_loop_iterations: 0 }), status: 400, error: /max_loop_iterations/ },
  { name: 'max_loop_iterations 50', body: () => ({ ...base(), max_loop_iterations: 50 }), status: 201 },
  { name: 'max_loop_iterations 51', body: () => ({ ...base(), max_loop_iterations: 51 }), status: 400, error: /max_loop_iterations/ },
  { name: 'max_tokens_per_turn 64001', body: () => ({ ...base(), max_tokens_per_turn: 64001 }), status: 400, error: /max_tokens_per_turn/ },
  { name: 'conversation_max_messages 0', body: () => ({ ...base(), conversation_max_messages: 0 }), status: 400, error: /conversation_max_messages/ },
  { name: 'conversation_max_messages 200', body: () => ({ ...base(), conversation_max_messages: 200 }), status: 201 },
  { name: 'conversation_max_messages 201', body: () => ({ ...base(), conversation_max_messages: 201 }), status: 400, error: /conversation_max_messages/ },
  { name: 'conversation_ttl_hours 0', body: () => ({ ...base(), conversation_ttl_hours: 0 }), status: 400, error: /conversation_ttl_hours/ },
  { name: 'spending_cap_cents -1', body: () => ({ ...base(), spending_cap_cents: -1 }), status: 400, error: /spending_cap_cents/ },
  { name: 'welcome_message 4001 chars', body: () => ({ ...base(), welcome_message: 'w'.repeat(4001) }), status: 400, error: /welcome_message/ },
]

describe('POST /api/bots', () => {
  for (const c of createCases) {
    test(c.name, async () => {
      const who = c.as ? c.as() : alice
      const before = count('bots')
      const r = await req('POST', '/api/bots', { token: who?.token, body: c.body() })
      expect(r.status).toBe(c.status)
      if (c.error) expect(r.body.error).toMatch(new RegExp(c.error.source, 'i'))
      expect(count('bots')).toBe(before + (c.status === 201 ? 1 : 0))
      if (c.status === 201) {
        expect(r.body.bot.status).toBe('draft')
        expect(r.text).not.toContain('123:ABC')
        expect(r.text).not.toContain('xoxb-1')
      }
    })
  }

  test('defaults of every optional field', async () => {
    const r = await req('POST', '/api/bots', { token: alice.token, body: base() })
    expect(r.status).toBe(201)
    expect(r.body.bot).toMatchObject({
      name: 'My Bot', slug: expect.stringMatching(/^my-bot/), platform: 'custom', status: 'draft', description: null,
      llm_provider: 'anthropic', llm_model: 'claude-sonnet-4-6', llm_config: {}, billing_mode: 'wallet',
      max_loop_iterations: 10, max_tokens_per_turn: 8192, timeout_ms: 30000, conversation_max_messages: 20, conversation_ttl_hours: 24,
      enable_rag: false, welcome_message: null, fallback_message: null, spending_cap_cents: null, workflow_json: null, workflow_enabled: false,
      has_platform_config: false, has_llm_api_key: false, template_id: null, conversation_count: 0, last_active_at: null,
    })
    expect(r.body.bot.id).toMatch(/^bt_[A-Za-z0-9_-]{20}$/)
  })

  test('secrets are sealed: flags only, never in responses, nor in the database file', async () => {
    const key = 'sk-byok-very-secret-0123456789'
    const token = '987654:SECRET-telegram-token'
    const r = await req('POST', '/api/bots', {
      token: alice.token, body: { ...base(), platform: 'telegram', platform_config: { bot_token: token }, llm_api_key: key, billing_mode: 'byok' },
    })
    expect(r.status).toBe(201)
    expect(r.body.bot).toMatchObject({ has_platform_config: true, has_llm_api_key: true })
    for (const path of ['/api/bots', `/api/bots/${r.body.bot.id}`]) {
      const g = await req('GET', path, { token: alice.token })
      expect(g.text).not.toContain(key)
      expect(g.text).not.toContain(token)
      expect(g.text).not.toContain('secret_token')
    }
    // A secret_token was generated for the Telegram webhook (1-256 of A-Za-z0-9_-).
    const bot = loadBot(env.t.k, r.body.bot.id)!
    expect(bot.platform_config.secret_token).toMatch(/^[A-Za-z0-9_-]{1,256}$/)
    expect(bot.llm_api_key).toBe(key)
    env.t.k.db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    for (const f of ['agentbase.db', 'agentbase.db-wal']) {
      const p = join(env.t.dir, f)
      if (existsSync(p)) {
        const bytes = readFileSync(p).toString('latin1')
        expect(bytes.includes(key)).toBe(false)
        expect(bytes.includes(token)).toBe(false)
      }
    }
  })
})

describe('GET /api/bots and /api/bots/:id', () => {
  test('list: own bots only, with conversation_count and last_active_at', async () => {
    const id = await createBot(env.t, bob, { name: 'Bob Bot' })
    await req('POST', `/api/bots/${id}/activate`, { token: bob.token })
    env.llm.reply({ text: 'hi' })
    await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: 'hello' })
    const r = await req('GET', '/api/bots', { token: bob.token })
    expect(r.status).toBe(200)
    expect(r.body.bots.map((b: any) => b.id)).toEqual([id])
    expect(r.body.bots[0]).toMatchObject({ name: 'Bob Bot', slug: 'bob-bot', conversation_count: 1, last_active_at: expect.any(String) })
    const a = await req('GET', '/api/bots', { token: alice.token })
    expect(a.body.bots.some((b: any) => b.id === id)).toBe(false)
    expect((await req('GET', '/api/bots')).status).toBe(401)
  })

  test('get: owner 200 with template info and webhook_url; others 404, unknown 404', async () => {
    const id = await createBot(env.t, alice)
    const r = await req('GET', `/api/bots/${id}`, { token: alice.token })
    expect(r.status).toBe(200)
    expect(r.body.bot).toMatchObject({ id, template_id: null, template: null, webhook_url: `https://bots.example.com/api/bots/webhook/custom/${id}` })
    expect((await req('GET', `/api/bots/${id}`, { token: bob.token })).status).toBe(404)
    expect((await req('GET', '/api/bots/bt_doesnotexist', { token: alice.token })).status).toBe(404)
  })

  test('slugs stay unique per owner', async () => {
    const a = await createBot(env.t, alice, { name: 'Same Name' })
    const b = await createBot(env.t, alice, { name: 'Same Name' })
    const slugs = [a, b].map((id) => loadBot(env.t.k, id)!.slug)
    expect(slugs).toEqual(['same-name', 'same-name-2'])
  })
})

describe('PATCH /api/bots/:id', () => {
  let id: string
  beforeAll(async () => { id = await createBot(env.t, alice, { platform: 'telegram', platform_config: { bot_token: '123:ABC', secret_token: 'keep-me' } }) })

  const patchCases: { name: string; body: Record<string, unknown>; status: number; error?: RegExp; expect?: Record<string, unknown> }[] = [
    { name: 'updatable fields', body: { system_prompt: 'Updated prompt.', max_loop_iterations: 5, spending_cap_cents: 1000, name: 'Renamed', description: 'd', llm_provider: 'openai', llm_model: 'gpt-4o', llm_config: { temperature: 0.7 }, billing_mode: 'plan_quota', max_tokens_per_turn: 100, timeout_ms: 5000, conversation_max_messages: 4, conversation_ttl_hours: 2, enable_rag: true, welcome_message: 'Hi', fallback_message: 'Oops' }, status: 200,
      expect: { system_prompt: 'Updated prompt.', max_loop_iterations: 5, spending_cap_cents: 1000, name: 'Renamed', description: 'd', llm_provider: 'openai', llm_model: 'gpt-4o', llm_config: { temperature: 0.7 }, billing_mode: 'plan_quota', max_tokens_per_turn: 100, timeout_ms: 5000, conversation_max_messages: 4, conversation_ttl_hours: 2, enable_rag: true, welcome_message: 'Hi', fallback_message: 'Oops' } },
    { name: 'clear nullable fields', body: { spending_cap_cents: null, welcome_message: null, description: null }, status: 200, expect: { spending_cap_cents: null, welcome_message: null, description: null } },
    { name: 'llm_api_key set', body: { llm_api_key: 'sk-own' }, status: 200, expect: { has_llm_api_key: true } },
    { name: 'llm_api_key cleared', body: { llm_api_key: null }, status: 200, expect: { has_llm_api_key: false } },
    { name: 'platform cannot change', body: { platform: 'slack' }, status: 400, error: /platform cannot be changed/ },
    { name: 'workspace cannot change', body: { workspace_id: 'ws_x' }, status: 400, error: /workspace_id cannot be changed/ },
    { name: 'unknown field', body: { colour: 'red' }, status: 400, error: /colour is not an updatable field/ },
    { name: 'status is not updatable', body: { status: 'active' }, status: 400, error: /activate/ },
    { name: 'timeout_ms 60001', body: { timeout_ms: 60001 }, status: 400, error: /timeout_ms/ },
    { name: 'platform_config without bot_token', body: { platform_config: { secret_token: 'x' } }, status: 400, error: /platform_config\.bot_token/ },
    { name: 'platform_config new token', body: { platform_config: { bot_token: '555:NEW' } }, status: 200, expect: { has_platform_config: true } },
    { name: 'workflow_json not an object', body: { workflow_json: [1, 2] }, status: 400, error: /workflow_json/ },
    { name: 'workflow_json without nodes', body: { workflow_json: { edges: [] } }, status: 400, error: /workflow_json\.nodes/ },
    { name: 'workflow_json duplicate node ids', body: { workflow_json: { nodes: [{ id: 'a', type: 'llm' }, { id: 'a', type: 'reply' }] } }, status: 400, error: /duplicates/ },
    { name: 'workflow_json edge to unknown node', body: { workflow_json: { nodes: [{ id: 'a', type: 'llm' }], edges: [{ source: 'a', target: 'zz' }] } }, status: 400, error: /unknown node "zz"/ },
    { name: 'workflow_json valid', body: { workflow_json: { nodes: [{ id: 'start', type: 'trigger' }, { id: 'answer', type: 'llm', data: { prompt: 'x' } }], edges: [{ source: 'start', target: 'answer' }] } }, status: 200, expect: { workflow_json: { nodes: [{ id: 'start', type: 'trigger' }, { id: 'answer', type: 'llm', data: { prompt: 'x' } }], edges: [{ source: 'start', target: 'answer' }] } } },
    { name: 'workflow_enabled true refused without steps', body: { workflow_enabled: true }, status: 400, error: /workflow_json must be \{ "steps"/ },
    { name: 'workflow_enabled false accepted', body: { workflow_enabled: false }, status: 200, expect: { workflow_enabled: false } },
    { name: 'custom provider without base_url', body: { llm_provider: 'custom' }, status: 400, error: /base_url/ },
  ]
  for (const c of patchCases) {
    test(c.name, async () => {
      const before = env.t.k.db.query('SELECT * FROM bots WHERE id = ?').get(id)
      const r = await req('PATCH', `/api/bots/${id}`, { token: alice.token, body: c.body })
      expect(r.status).toBe(c.status)
      if (c.error) expect(r.body.error).toMatch(new RegExp(c.error.source, 'i'))
      if (c.expect) expect(r.body.bot).toMatchObject(c.expect)
      if (c.status !== 200) expect(env.t.k.db.query('SELECT * FROM bots WHERE id = ?').get(id)).toEqual(before)
      expect(r.text).not.toContain('sk-own')
    })
  }

  test('the Telegram secret_token survives a platform_config update that omits it', () => {
    expect(loadBot(env.t.k, id)!.platform_config).toEqual({ bot_token: '555:NEW', secret_token: 'keep-me' })
  })

  test('no token: 401 before any validation', async () => {
    expect((await req('PATCH', `/api/bots/${id}`, { body: { platform: 'slack' } })).status).toBe(401)
  })

  test("someone else's bot: 404, unchanged", async () => {
    const r = await req('PATCH', `/api/bots/${id}`, { token: bob.token, body: { name: 'pwned' } })
    expect(r.status).toBe(404)
    expect(loadBot(env.t.k, id)!.name).not.toBe('pwned')
  })
})

describe('lifecycle: activate, pause, delete', () => {
  test('custom: activate answers the webhook URL and a security warning; pause; events recorded', async () => {
    const id = await createBot(env.t, alice)
    const r = await req('POST', `/api/bots/${id}/activate`, { token: alice.token })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ status: 'active', webhook_url: `https://bots.example.com/api/bots/webhook/custom/${id}`, manual_setup_required: false })
    expect(r.body.warnings.some((w: string) => /not verified/.test(w))).toBe(true)
    const p = await req('POST', `/api/bots/${id}/pause`, { token: alice.token })
    expect(p.status).toBe(200)
    expect(p.body).toEqual({ status: 'paused' })
    const events = env.t.k.db.query<{ data: string }, []>("SELECT data FROM events WHERE type = 'bot.status.changed'").all().map((e) => JSON.parse(e.data)).filter((d) => d.bot_id === id)
    expect(events.map((e) => [e.previous_status, e.status])).toEqual([['draft', 'active'], ['active', 'paused']])
    // A paused bot stops answering.
    await expect(handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: 'hi' })).rejects.toMatchObject({ status: 409, code: 'bot_not_active' })
  })

  test('telegram: activate registers setWebhook with the secret; pause and delete unregister', async () => {
    const id = await createBot(env.t, alice, { platform: 'telegram', platform_config: { bot_token: '4242:TG' } })
    const r = await req('POST', `/api/bots/${id}/activate`, { token: alice.token })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ status: 'active', webhook_url: `https://bots.example.com/api/bots/webhook/telegram/${id}`, manual_setup_required: false })
    const hook = fake.telegramWebhooks.get('4242:TG')!
    expect(hook.url).toBe(r.body.webhook_url)
    expect(hook.secret_token).toBe(loadBot(env.t.k, id)!.platform_config.secret_token as string)
    expect((await req('POST', `/api/bots/${id}/pause`, { token: alice.token })).body.status).toBe('paused')
    expect(fake.telegramWebhooks.has('4242:TG')).toBe(false)
    await req('POST', `/api/bots/${id}/activate`, { token: alice.token })
    expect(fake.telegramWebhooks.has('4242:TG')).toBe(true)
    const d = await req('DELETE', `/api/bots/${id}`, { token: alice.token })
    expect(d.body).toEqual({ deleted: true })
    expect(fake.telegramWebhooks.has('4242:TG')).toBe(false)
  })

  test('slack: manual setup required', async () => {
    const id = await createBot(env.t, alice, { platform: 'slack', platform_config: { bot_token: 'xoxb-ok', signing_secret: 's' } })
    const r = await req('POST', `/api/bots/${id}/activate`, { token: alice.token })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ status: 'active', manual_setup_required: true, webhook_url: `https://bots.example.com/api/bots/webhook/slack/${id}` })
  })

  test('platform refuses the token: activation fails (502) and the bot stays draft', async () => {
    const id = await createBot(env.t, alice, { platform: 'telegram', platform_config: { bot_token: '777:BAD' } })
    fake.fail({ platform: 'telegram', method: 'setWebhook', status: 401, times: 1 })
    const r = await req('POST', `/api/bots/${id}/activate`, { token: alice.token })
    expect(r.status).toBe(502)
    expect(loadBot(env.t.k, id)!.status).toBe('draft')
  })

  test('delete removes conversations and messages, and survives a failing unregister', async () => {
    const id = await createBot(env.t, alice, { platform: 'telegram', platform_config: { bot_token: '999:DEL' } })
    await req('POST', `/api/bots/${id}/activate`, { token: alice.token })
    env.llm.reply({ text: 'answer' })
    await handleIncoming(env.t.k, id, { chatId: 'c', userId: 'u', text: 'question' })
    const q = (t: string) => env.t.k.db.query<{ n: number }, [string]>(`SELECT count(*) AS n FROM ${t} WHERE bot_id = ?`).get(id)!.n
    expect([q('bot_conversations'), q('bot_messages')]).toEqual([1, 2])
    fake.fail({ platform: 'telegram', method: 'deleteWebhook', status: 500, times: 10 })
    expect((await req('DELETE', `/api/bots/${id}`, { token: bob.token })).status).toBe(404)
    const d = await req('DELETE', `/api/bots/${id}`, { token: alice.token })
    expect(d.status).toBe(200)
    expect(d.body).toEqual({ deleted: true })
    expect([q('bot_conversations'), q('bot_messages')]).toEqual([0, 0])
    expect((await req('GET', `/api/bots/${id}`, { token: alice.token })).status).toBe(404)
    expect((await req('GET', `/api/bots/${id}/analytics`, { token: alice.token })).status).toBe(404)
  })

  test("others' bots: activate, pause, delete and test answer 404", async () => {
    const id = await createBot(env.t, alice)
    for (const [m, p] of [['POST', 'activate'], ['POST', 'pause'], ['POST', 'test'], ['GET', 'conversations'], ['GET', 'analytics'], ['GET', 'insights']] as const) {
      const r = await req(m, `/api/bots/${id}/${p}`, { token: bob.token, body: m === 'POST' ? { message: 'x' } : undefined })
      expect(r.status).toBe(404)
    }
    expect(loadBot(env.t.k, id)!.status).toBe('draft')
  })

  test('wallet-billed bot on a provider without a platform key gets a warning', async () => {
    const id = await createBot(env.t, alice, { llm_provider: 'groq', llm_model: 'llama-3.1-8b-instant' })
    const r = await req('POST', `/api/bots/${id}/activate`, { token: alice.token })
    expect(r.body.warnings.some((w: string) => /No platform key is configured for groq/.test(w))).toBe(true)
  })
})
