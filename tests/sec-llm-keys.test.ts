import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { startFakeLlm } from './fixtures/fake-llm'
import { createEndpoint, epEnv, userWithWorkspace } from './endpoints-kit'
import { createBot } from './bots-kit'
import { collect, run } from '../src/agent/run'

/**
 * Issue 11 item 1: the operator's platform keys go only to the base URL the operator configured. A user-chosen
 * base URL needs the user's own key: 400 naming the field at create/update, and again at run time for rows
 * stored before the rule (or any other surface). A recording fake upstream proves no key ever leaves.
 */

const env = await epEnv({ env: { AGENTBASE_BILLING: 'off' } })
const { t } = env
const evil = await startFakeLlm() // the URL a user chose: records every request it gets
afterAll(() => { env.close(); evil.close() })
beforeEach(() => { evil.reset(); env.llm.reset() })

const alice = await userWithWorkspace(t)
const leaked = () => evil.requests.filter((r) => JSON.stringify(r.headers).includes('sk-test') || JSON.stringify(r.headers).includes('sk-ant-test'))

describe('agent endpoints: llm_base_url', () => {
  test('create with a user base URL and no own key: 400 naming llm_base_url, nothing stored', async () => {
    for (const [provider, base] of [['openai', evil.openaiBase], ['anthropic', evil.anthropicBase]] as const) {
      const r = await t.req('POST', '/api/agent-endpoints', { token: alice.token, body: { name: `E ${provider}`, workspace_id: alice.ws, system_prompt: 's', llm_provider: provider, llm_model: 'm', llm_base_url: base } })
      expect(r.status).toBe(400)
      expect(r.body.error).toContain('llm_base_url')
      expect(r.body.details).toHaveProperty('llm_base_url')
    }
  })

  test('create with a user base URL and its own key is fine, and runs with that key only', async () => {
    const ep = await createEndpoint(t, alice, { name: 'Own key', llm_base_url: evil.openaiBase, llm_api_key: 'sk-user-own' })
    evil.reply({ text: 'hi' })
    const r = await t.req('POST', `/api/run/${ep.slug}`, { headers: { authorization: `Bearer ${ep.key}` }, body: { input: 'x' } })
    expect(r.status).toBe(200)
    expect(evil.requests.length).toBe(1)
    expect(evil.requests[0].headers.authorization).toBe('Bearer sk-user-own')
    expect(leaked()).toEqual([])
  })

  test('the operator base URL itself needs no own key', async () => {
    const ep = await createEndpoint(t, alice, { name: 'Operator base', llm_base_url: env.llm.openaiBase })
    expect(ep.endpoint.llm_base_url).toBe(env.llm.openaiBase)
  })

  test('update: adding a base URL without a key, or removing the key under a base URL: 400', async () => {
    const plain = await createEndpoint(t, alice, { name: 'Plain' })
    const a = await t.req('PATCH', `/api/agent-endpoints/${plain.id}`, { token: alice.token, body: { llm_base_url: evil.openaiBase } })
    expect(a.status).toBe(400)
    expect(a.body.error).toContain('llm_base_url')
    const own = await createEndpoint(t, alice, { name: 'Own 2', llm_base_url: evil.openaiBase, llm_api_key: 'sk-user-own' })
    const b = await t.req('PATCH', `/api/agent-endpoints/${own.id}`, { token: alice.token, body: { llm_api_key: null } })
    expect(b.status).toBe(400)
    expect(b.body.error).toContain('llm_base_url')
  })

  test('run time: a stored row with a user base URL and no key is refused before any request leaves', async () => {
    const ep = await createEndpoint(t, alice, { name: 'Legacy' })
    t.k.db.query('UPDATE agent_endpoints SET llm_base_url = ? WHERE id = ?').run(evil.openaiBase, ep.id)
    const r = await t.req('POST', `/api/run/${ep.slug}`, { headers: { authorization: `Bearer ${ep.key}` }, body: { input: 'x' } })
    expect(r.status).toBe(400)
    expect(r.body.error).toContain('llm_base_url')
    expect(evil.requests.length).toBe(0)
  })
})

describe('bots: llm_config.base_url', () => {
  test('create on the platform key with a user base URL: 400 naming llm_config.base_url', async () => {
    const r = await t.req('POST', '/api/bots', {
      token: alice.token,
      body: { name: 'B', platform: 'custom', workspace_id: alice.ws, system_prompt: 's', llm_provider: 'openai', llm_model: 'gpt-4o-mini', llm_config: { base_url: evil.openaiBase } },
    })
    expect(r.status).toBe(400)
    expect(r.body.error).toContain('llm_config.base_url')
    expect(r.body.details).toHaveProperty(['llm_config.base_url'])
  })

  test('byok with its own key is fine; switching it back to the platform key is refused', async () => {
    const id = await createBot(t, alice, { billing_mode: 'byok', llm_api_key: 'sk-bot-own', llm_config: { base_url: evil.openaiBase } })
    evil.reply({ text: 'hello' })
    const r = await t.req('POST', `/api/bots/${id}/test`, { token: alice.token, body: { message: 'hi' } })
    expect(r.status).toBe(200)
    expect(evil.requests[0].headers.authorization).toBe('Bearer sk-bot-own')
    const back = await t.req('PATCH', `/api/bots/${id}`, { token: alice.token, body: { billing_mode: 'wallet' } })
    expect(back.status).toBe(400)
    expect(back.body.error).toContain('llm_config.base_url')
    expect(leaked()).toEqual([])
  })

  test('run time: a stored bot on the platform key with a user base URL never reaches that URL', async () => {
    const id = await createBot(t, alice, { name: 'Legacy bot' })
    t.k.db.query('UPDATE bots SET llm_config = ? WHERE id = ?').run(JSON.stringify({ base_url: evil.openaiBase }), id)
    const r = await t.req('POST', `/api/bots/${id}/test`, { token: alice.token, body: { message: 'hi' } })
    expect(r.status).toBe(400)
    expect(r.body.error).toContain('llm_config.base_url')
    expect(evil.requests.length).toBe(0)
  })
})

test('the runtime itself (any surface): platform key + foreign base URL is refused, for every keyed provider', async () => {
  for (const provider of ['openai', 'anthropic'] as const) {
    const r = await collect(run(t.k, { systemPrompt: '', provider, model: 'm', ownerId: alice.id, baseUrl: evil.url }, { message: 'x' }))
    expect(r.ok).toBe(false)
    if (!r.ok) { expect(r.status).toBe(400); expect(r.code).toBe('llm_key_required') }
  }
  expect(evil.requests.length).toBe(0)
})
