/** Agent endpoints management (reference: "Management Endpoints" and "Templates"): every route, bound and status. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createEndpoint, epEnv, userWithWorkspace, count, type EpEnv, type Who } from './endpoints-kit'
import { tableCounts } from './helpers'

let env: EpEnv, alice: Who, bob: Who
beforeAll(async () => {
  env = await epEnv()
  alice = await userWithWorkspace(env.t)
  bob = await userWithWorkspace(env.t)
})
afterAll(() => env.close())

const req = (...a: Parameters<EpEnv['t']['req']>) => env.t.req(...a)
const base = () => ({ name: 'Summarizer', workspace_id: alice.ws, system_prompt: 'You summarize.' })

interface Case { name: string; body: () => Record<string, unknown>; status: number; error?: RegExp; as?: () => Who | null; check?: (b: any) => void }

/** One below, at, and one above each bound of the reference's create table. */
function bounds(field: string, min: number, max: number, step = 1): Case[] {
  const name = `bounds ${field}`
  return [
    { name: `${name} ${min - step}`, body: () => ({ ...base(), [field]: min - step }), status: 400, error: new RegExp(field) },
    { name: `${name} ${min}`, body: () => ({ ...base(), [field]: min }), status: 201, check: (b) => expect(b.endpoint[field]).toBe(min) },
    { name: `${name} ${max}`, body: () => ({ ...base(), [field]: max }), status: 201, check: (b) => expect(b.endpoint[field]).toBe(max) },
    { name: `${name} ${max + step}`, body: () => ({ ...base(), [field]: max + step }), status: 400, error: new RegExp(field) },
  ]
}

function lengths(field: string, min: number, max: number): Case[] {
  const s = (n: number) => (field === 'slug' ? 'a'.repeat(n) : 'x'.repeat(n))
  const out: Case[] = [
    { name: `length ${field} ${max}`, body: () => ({ ...base(), [field]: s(max) }), status: 201 },
    { name: `length ${field} ${max + 1}`, body: () => ({ ...base(), [field]: s(max + 1) }), status: 400, error: new RegExp(field) },
  ]
  if (min > 0) out.push({ name: `length ${field} ${min - 1}`, body: () => ({ ...base(), [field]: s(min - 1) }), status: 400, error: new RegExp(field) })
  return out
}

const createCases: Case[] = [
  { name: 'no token', body: base, status: 401, as: () => null },
  {
    name: 'defaults', body: base, status: 201, check: (b) => {
      expect(b.endpoint).toMatchObject({
        name: 'Summarizer', description: null, agent_type: 'extractor', llm_provider: 'openai', llm_model: 'gpt-4o-mini', max_tokens: 4096,
        temperature: 0.3, input_schema: null, output_schema: null, output_format: 'text', max_tool_calls: 10, timeout_ms: 30000,
        enable_streaming: 0, async_mode: 0, auth_mode: 'api_key', price_per_run_cents: 0, rate_limit_rpm: 60, status: 'draft',
        owner_id: alice.id, workspace_id: alice.ws, has_llm_api_key: false,
      })
      expect(b.endpoint.id).toMatch(/^aep_[A-Za-z0-9_-]{20}$/)
      expect(b.api_key).toMatch(/^aek_[A-Za-z0-9_-]{40}$/)
      expect(b.run_url).toBe(`/api/run/${b.endpoint.slug}`)
      expect(b.endpoint.key_prefix).toBe(b.api_key.slice(0, 10))
      expect(b.endpoint.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    },
  },
  { name: 'name missing', body: () => ({ ...base(), name: undefined }), status: 400, error: /name/ },
  ...lengths('name', 1, 100),
  { name: 'workspace_id missing', body: () => ({ ...base(), workspace_id: undefined }), status: 400, error: /workspace_id/ },
  { name: 'workspace_id 101 chars', body: () => ({ ...base(), workspace_id: 'w'.repeat(101) }), status: 400, error: /workspace_id/ },
  { name: 'workspace_id unknown', body: () => ({ ...base(), workspace_id: 'ws_nope' }), status: 404, error: /Workspace not found/ },
  { name: "someone else's workspace", body: () => ({ ...base(), workspace_id: bob.ws }), status: 404, error: /Workspace not found/ },
  { name: 'system_prompt missing', body: () => ({ ...base(), system_prompt: undefined }), status: 400, error: /system_prompt/ },
  ...lengths('system_prompt', 1, 10000),
  ...lengths('description', 0, 500),
  { name: 'description null', body: () => ({ ...base(), description: null }), status: 201 },
  ...lengths('slug', 1, 60),
  { name: 'slug with spaces', body: () => ({ ...base(), slug: 'Bad Slug' }), status: 400, error: /slug/ },
  ...lengths('llm_model', 1, 100),
  ...bounds('max_tokens', 100, 32768),
  ...bounds('temperature', 0, 2, 0.1),
  ...bounds('max_tool_calls', 1, 50),
  ...bounds('timeout_ms', 1000, 120000),
  ...bounds('price_per_run_cents', 0, 10000),
  ...bounds('rate_limit_rpm', 1, 1_000_000),
  { name: 'max_tokens not an integer', body: () => ({ ...base(), max_tokens: 100.5 }), status: 400, error: /max_tokens/ },
  { name: 'temperature as a string', body: () => ({ ...base(), temperature: 'hot' }), status: 400, error: /temperature/ },
  ...['extractor', 'actor', 'pipeline'].map((v): Case => ({ name: `agent_type ${v}`, body: () => ({ ...base(), agent_type: v }), status: 201, check: (b) => expect(b.endpoint.agent_type).toBe(v) })),
  { name: 'agent_type unknown', body: () => ({ ...base(), agent_type: 'robot' }), status: 400, error: /agent_type/ },
  ...['openai', 'anthropic', 'gemini', 'groq', 'workers-ai'].map((v): Case => ({ name: `llm_provider ${v}`, body: () => ({ ...base(), llm_provider: v }), status: 201 })),
  { name: 'llm_provider custom without base url', body: () => ({ ...base(), llm_provider: 'custom' }), status: 400, error: /llm_base_url/ },
  { name: 'llm_provider custom with base url', body: () => ({ ...base(), llm_provider: 'custom', llm_base_url: 'http://127.0.0.1:9/v1' }), status: 201 },
  { name: 'llm_base_url to a private address', body: () => ({ ...base(), llm_provider: 'custom', llm_base_url: 'http://10.0.0.1/v1' }), status: 400, error: /private or reserved/ },
  { name: 'llm_provider unknown', body: () => ({ ...base(), llm_provider: 'acme' }), status: 400, error: /llm_provider/ },
  ...['text', 'json', 'markdown'].map((v): Case => ({ name: `output_format ${v}`, body: () => ({ ...base(), output_format: v }), status: 201 })),
  { name: 'output_format unknown', body: () => ({ ...base(), output_format: 'xml' }), status: 400, error: /output_format/ },
  ...['api_key', 'public'].map((v): Case => ({ name: `auth_mode ${v}`, body: () => ({ ...base(), auth_mode: v }), status: 201 })),
  { name: 'auth_mode unknown', body: () => ({ ...base(), auth_mode: 'oauth' }), status: 400, error: /auth_mode/ },
  { name: 'enable_streaming true', body: () => ({ ...base(), enable_streaming: true }), status: 201, check: (b) => expect(b.endpoint.enable_streaming).toBe(1) },
  { name: 'async_mode true', body: () => ({ ...base(), async_mode: true }), status: 201, check: (b) => expect(b.endpoint.async_mode).toBe(1) },
  { name: 'enable_streaming not a boolean', body: () => ({ ...base(), enable_streaming: 'yes' }), status: 400, error: /enable_streaming/ },
  {
    name: 'schemas kept as objects', body: () => ({ ...base(), input_schema: { type: 'string' }, output_schema: { type: 'object', properties: { a: { type: 'number' } } } }), status: 201,
    check: (b) => { expect(b.endpoint.input_schema).toEqual({ type: 'string' }); expect(b.endpoint.output_schema.properties.a.type).toBe('number') },
  },
  { name: 'output_schema not an object', body: () => ({ ...base(), output_schema: 'nope' }), status: 400, error: /output_schema/ },
  { name: 'input_schema an array', body: () => ({ ...base(), input_schema: [1] }), status: 400, error: /input_schema/ },
  { name: 'output_schema not a valid JSON Schema', body: () => ({ ...base(), output_schema: { type: 'no-such-type' } }), status: 400, error: /output_schema is not a valid JSON Schema/ },
  {
    name: 'own llm_api_key: stored sealed, never returned', body: () => ({ ...base(), llm_api_key: 'sk-own-SECRET-123' }), status: 201,
    check: (b) => {
      expect(b.endpoint.has_llm_api_key).toBe(true)
      expect(JSON.stringify(b)).not.toContain('sk-own-SECRET-123')
      const row = env.t.k.db.query<{ s: string }, [string]>('SELECT llm_api_key_sealed AS s FROM agent_endpoints WHERE id = ?').get(b.endpoint.id)!
      expect(row.s).not.toContain('sk-own-SECRET-123')
      expect(env.t.k.secrets.open(row.s)).toBe('sk-own-SECRET-123')
    },
  },
  { name: 'template_id unknown', body: () => ({ ...base(), template_id: 'tpl_nope' }), status: 404, error: /Template not found/ },
  { name: 'unknown field ignored', body: () => ({ ...base(), colour: 'blue' }), status: 201, check: (b) => expect(b.endpoint).not.toHaveProperty('colour') },
]

describe('POST /api/agent-endpoints', () => {
  for (const c of createCases) {
    test(c.name, async () => {
      const who = c.as ? c.as() : alice
      const before = tableCounts(env.t.k)
      const r = await req('POST', '/api/agent-endpoints', { token: who?.token, body: c.body() })
      expect(r.status).toBe(c.status)
      if (c.status !== 201) {
        expect(typeof r.body.error).toBe('string')
        expect(tableCounts(env.t.k)).toEqual(before) // bad input writes nothing
      } else expect(count(env.t, 'agent_endpoints')).toBe(before.agent_endpoints + 1)
      if (c.error) expect(r.body.error).toMatch(new RegExp(c.error.source, "i"))
      c.check?.(r.body)
    })
  }
})

describe('slugs', () => {
  test('auto from the name, unique with a suffix', async () => {
    const a = await createEndpoint(env.t, alice, { name: 'Émail Drafter — v2!' }, false)
    expect(a.slug).toBe('email-drafter-v2')
    const b = await createEndpoint(env.t, bob, { name: 'Email drafter v2' }, false)
    expect(b.slug).toBe('email-drafter-v2-2')
    const c = await createEndpoint(env.t, alice, { name: '!!!' }, false)
    expect(c.slug).toMatch(/^endpoint(-\d+)?$/)
  })
  test('409 when a given slug is taken (by anyone); nothing written', async () => {
    await createEndpoint(env.t, alice, { slug: 'taken-slug' }, false)
    const before = count(env.t, 'agent_endpoints')
    const r = await req('POST', '/api/agent-endpoints', { token: bob.token, body: { ...base(), workspace_id: bob.ws, slug: 'taken-slug' } })
    expect(r.status).toBe(409)
    expect(r.body.error).toMatch(/taken-slug.*taken/)
    expect(count(env.t, 'agent_endpoints')).toBe(before)
  })
  test('PATCH to a taken slug is 409; to a free one changes run_url', async () => {
    const a = await createEndpoint(env.t, alice, { slug: 'slug-one' }, false)
    await createEndpoint(env.t, alice, { slug: 'slug-two' }, false)
    expect((await req('PATCH', `/api/agent-endpoints/${a.id}`, { token: alice.token, body: { slug: 'slug-two' } })).status).toBe(409)
    const ok = await req('PATCH', `/api/agent-endpoints/${a.id}`, { token: alice.token, body: { slug: 'slug-three' } })
    expect(ok.status).toBe(200)
    expect(ok.body.endpoint.run_url).toBe('/api/run/slug-three')
  })
})

describe('list, get, update, delete, activate, regenerate-key', () => {
  test('list: only your own, newest first, the reference fields', async () => {
    const carol = await userWithWorkspace(env.t)
    const one = await createEndpoint(env.t, carol, { name: 'One' }, false)
    const two = await createEndpoint(env.t, carol, { name: 'Two' }, false)
    await createEndpoint(env.t, bob, { name: 'Bobs' }, false)
    const r = await req('GET', '/api/agent-endpoints', { token: carol.token })
    expect(r.status).toBe(200)
    expect(r.body.endpoints.map((e: any) => e.id).sort()).toEqual([one.id, two.id].sort())
    for (const f of ['id', 'owner_id', 'workspace_id', 'name', 'slug', 'description', 'agent_type', 'system_prompt', 'llm_provider', 'llm_model', 'max_tokens',
      'temperature', 'output_format', 'max_tool_calls', 'timeout_ms', 'enable_streaming', 'async_mode', 'auth_mode', 'price_per_run_cents', 'status', 'created_at', 'updated_at']) {
      expect(r.body.endpoints[0]).toHaveProperty(f)
    }
    expect(r.text).not.toMatch(/aek_[A-Za-z0-9_-]{20}/) // keys never listed
    expect((await req('GET', '/api/agent-endpoints')).status).toBe(401)
  })

  test('get: 200 for the owner, 404 for others and unknown ids', async () => {
    const e = await createEndpoint(env.t, alice, {}, false)
    expect((await req('GET', `/api/agent-endpoints/${e.id}`, { token: alice.token })).body.endpoint.id).toBe(e.id)
    const other = await req('GET', `/api/agent-endpoints/${e.id}`, { token: bob.token })
    const missing = await req('GET', '/api/agent-endpoints/aep_doesnotexist', { token: bob.token })
    expect(other.status).toBe(404)
    expect(other.body).toEqual(missing.body) // not yours looks exactly like missing
  })

  const patchCases: Array<{ name: string; body: Record<string, unknown>; status: number; check?: (b: any) => void }> = [
    { name: 'empty patch', body: {}, status: 200 },
    { name: 'name', body: { name: 'Renamed' }, status: 200, check: (b) => expect(b.endpoint.name).toBe('Renamed') },
    { name: 'name empty', body: { name: '' }, status: 400 },
    { name: 'name 101', body: { name: 'n'.repeat(101) }, status: 400 },
    { name: 'description 500', body: { description: 'd'.repeat(500) }, status: 200 },
    { name: 'description 501', body: { description: 'd'.repeat(501) }, status: 400 },
    { name: 'system_prompt 10001', body: { system_prompt: 's'.repeat(10001) }, status: 400 },
    { name: 'max_tokens 99', body: { max_tokens: 99 }, status: 400 },
    { name: 'max_tokens 32768', body: { max_tokens: 32768 }, status: 200, check: (b) => expect(b.endpoint.max_tokens).toBe(32768) },
    { name: 'max_tokens 32769', body: { max_tokens: 32769 }, status: 400 },
    { name: 'temperature 2.1', body: { temperature: 2.1 }, status: 400 },
    { name: 'temperature 0', body: { temperature: 0 }, status: 200, check: (b) => expect(b.endpoint.temperature).toBe(0) },
    { name: 'max_tool_calls 0', body: { max_tool_calls: 0 }, status: 400 },
    { name: 'max_tool_calls 51', body: { max_tool_calls: 51 }, status: 400 },
    { name: 'timeout_ms 120001', body: { timeout_ms: 120001 }, status: 400 },
    { name: 'timeout_ms 120000', body: { timeout_ms: 120000 }, status: 200 },
    { name: 'price 10001', body: { price_per_run_cents: 10001 }, status: 400 },
    { name: 'output_format json + schema', body: { output_format: 'json', output_schema: { type: 'object' } }, status: 200, check: (b) => expect(b.endpoint.output_schema).toEqual({ type: 'object' }) },
    { name: 'auth_mode public', body: { auth_mode: 'public' }, status: 200, check: (b) => expect(b.endpoint.auth_mode).toBe('public') },
    { name: 'auth_mode bad', body: { auth_mode: 'none' }, status: 400 },
    { name: 'streaming + async flags', body: { enable_streaming: true, async_mode: true }, status: 200, check: (b) => expect([b.endpoint.enable_streaming, b.endpoint.async_mode]).toEqual([1, 1]) },
    { name: 'llm_api_key set', body: { llm_api_key: 'sk-x' }, status: 200, check: (b) => expect(b.endpoint.has_llm_api_key).toBe(true) },
    { name: 'llm_api_key cleared', body: { llm_api_key: null }, status: 200, check: (b) => expect(b.endpoint.has_llm_api_key).toBe(false) },
    { name: 'custom provider without base url', body: { llm_provider: 'custom' }, status: 400 },
    { name: 'workspace_id changed', body: { workspace_id: 'ws_other' }, status: 400 },
  ]
  for (const c of patchCases) {
    test(`PATCH ${c.name}`, async () => {
      const e = await createEndpoint(env.t, alice, {}, false)
      const before = env.t.k.db.query('SELECT * FROM agent_endpoints WHERE id = ?').get(e.id)
      const r = await req('PATCH', `/api/agent-endpoints/${e.id}`, { token: alice.token, body: c.body })
      expect(r.status).toBe(c.status)
      if (c.status === 400) {
        expect(r.body.error).toMatch(new RegExp(Object.keys(c.body)[0], "i"))
        expect(env.t.k.db.query('SELECT * FROM agent_endpoints WHERE id = ?').get(e.id)).toEqual(before)
      }
      c.check?.(r.body)
    })
  }

  test('PATCH workspace_id: immutable (same value accepted), 404 for others', async () => {
    const e = await createEndpoint(env.t, alice, {}, false)
    const r = await req('PATCH', `/api/agent-endpoints/${e.id}`, { token: alice.token, body: { workspace_id: bob.ws } })
    expect(r.status).toBe(400)
    expect(r.body.error).toBe('workspace_id cannot be changed after creation')
    expect((await req('PATCH', `/api/agent-endpoints/${e.id}`, { token: alice.token, body: { workspace_id: alice.ws, name: 'Same ws' } })).status).toBe(200)
    expect((await req('PATCH', `/api/agent-endpoints/${e.id}`, { token: bob.token, body: { name: 'x' } })).status).toBe(404)
  })

  test('activate: status active, endpoint.status.changed published once; 404 for others', async () => {
    const e = await createEndpoint(env.t, alice, {}, false)
    const events = () => env.t.k.db.query<{ data: string }, []>("SELECT data FROM events WHERE type = 'endpoint.status.changed'").all()
      .map((r) => JSON.parse(r.data)).filter((d) => d.endpoint_id === e.id)
    expect((await req('POST', `/api/agent-endpoints/${e.id}/activate`, { token: bob.token })).status).toBe(404)
    const r = await req('POST', `/api/agent-endpoints/${e.id}/activate`, { token: alice.token })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ status: 'active' })
    expect(events()).toEqual([{ endpoint_id: e.id, slug: e.slug, status: 'active', previous_status: 'draft' }])
    await req('POST', `/api/agent-endpoints/${e.id}/activate`, { token: alice.token })
    expect(events().length).toBe(1) // no change, no event
    expect((await req('POST', `/api/agent-endpoints/${e.id}/deactivate`, { token: alice.token })).body).toEqual({ status: 'paused' })
    expect(events().length).toBe(2)
  })

  test('regenerate-key: a new key each time; 404 for others', async () => {
    const e = await createEndpoint(env.t, alice, {}, false)
    const r = await req('POST', `/api/agent-endpoints/${e.id}/regenerate-key`, { token: alice.token })
    expect(r.status).toBe(200)
    expect(r.body.api_key).toMatch(/^aek_/)
    expect(r.body.api_key).not.toBe(e.key)
    const row = env.t.k.db.query<any, [string]>('SELECT key_hash, key_prefix FROM agent_endpoints WHERE id = ?').get(e.id)
    expect(row.key_prefix).toBe(r.body.api_key.slice(0, 10))
    expect(JSON.stringify(row)).not.toContain(r.body.api_key)
    expect((await req('POST', `/api/agent-endpoints/${e.id}/regenerate-key`, { token: bob.token })).status).toBe(404)
  })

  test('delete: 404 for others, then gone', async () => {
    const e = await createEndpoint(env.t, alice, {}, false)
    expect((await req('DELETE', `/api/agent-endpoints/${e.id}`, { token: bob.token })).status).toBe(404)
    const r = await req('DELETE', `/api/agent-endpoints/${e.id}`, { token: alice.token })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ deleted: true })
    expect((await req('GET', `/api/agent-endpoints/${e.id}`, { token: alice.token })).status).toBe(404)
    expect((await req('DELETE', `/api/agent-endpoints/${e.id}`, { token: alice.token })).status).toBe(404)
  })

  test('deleting the workspace deletes its endpoints', async () => {
    const carol = await userWithWorkspace(env.t)
    const e = await createEndpoint(env.t, carol, {}, false)
    expect((await req('DELETE', `/api/workspaces/${carol.ws}`, { token: carol.token })).status).toBe(200)
    expect(count(env.t, 'agent_endpoints', 'id = ?', e.id)).toBe(0)
  })
})

describe('API tokens and scopes', () => {
  const token = async (who: Who, body: Record<string, unknown>) => {
    const r = await req('POST', '/api/tokens', { token: who.token, body: { name: 't', ...body } })
    if (r.status !== 201) throw new Error(r.text)
    return r.body.key as string
  }
  test('endpoints.read can list and get but not write', async () => {
    const key = await token(alice, { scopes: ['endpoints.read'] })
    const e = await createEndpoint(env.t, alice, {}, false)
    expect((await req('GET', '/api/agent-endpoints', { token: key })).status).toBe(200)
    expect((await req('GET', `/api/agent-endpoints/${e.id}/runs`, { token: key })).status).toBe(200)
    const w = await req('POST', '/api/agent-endpoints', { token: key, body: base() })
    expect(w.status).toBe(403)
    expect(w.body.error).toMatch(/endpoints\.write/)
    expect((await req('POST', `/api/agent-endpoints/${e.id}/activate`, { token: key })).status).toBe(403)
  })
  test('endpoints.write can create; a workspace token sees only its workspace', async () => {
    const key = await token(alice, { scopes: ['endpoints.read', 'endpoints.write'] })
    expect((await req('POST', '/api/agent-endpoints', { token: key, body: base() })).status).toBe(201)
    const ws2 = (await req('POST', '/api/workspaces', { token: alice.token, body: { name: 'second' } })).body.workspace.id
    const inWs2 = await createEndpoint(env.t, alice, { workspace_id: ws2 }, false)
    const wsKey = await token(alice, { type: 'workspace', workspace_id: alice.ws })
    const list = await req('GET', '/api/agent-endpoints', { token: wsKey })
    expect(list.body.endpoints.every((e: any) => e.workspace_id === alice.ws)).toBe(true)
    expect((await req('GET', `/api/agent-endpoints/${inWs2.id}`, { token: wsKey })).status).toBe(404)
    expect((await req('POST', '/api/agent-endpoints', { token: wsKey, body: { ...base(), workspace_id: ws2 } })).status).toBe(404)
  })
  test('test route needs a login session, not an API key', async () => {
    const key = await token(alice, {})
    const e = await createEndpoint(env.t, alice, {}, false)
    const r = await req('POST', `/api/agent-endpoints/${e.id}/test`, { token: key, body: { input: 'x' } })
    expect(r.status).toBe(403)
    expect(r.body.code).toBe('session_required')
  })
})

describe('templates', () => {
  const AGENT = ['Invoice Parser', 'Lead Enricher', 'Support Ticket Classifier', 'PR Code Reviewer', 'Resume Screener', 'SQL Query Generator', 'Email Drafter']

  test('type=agent: the seven reference templates, most popular first, no auth', async () => {
    const r = await req('GET', '/api/agent-endpoints/templates/list?type=agent')
    expect(r.status).toBe(200)
    const names = r.body.templates.map((x: any) => x.name)
    expect([...names].sort()).toEqual([...AGENT].sort())
    const pop = r.body.templates.map((x: any) => x.popularity)
    expect(pop).toEqual([...pop].sort((a: number, b: number) => b - a))
    const inv = r.body.templates.find((x: any) => x.id === 'tpl_invoice_parser')
    expect(inv).toMatchObject({ name: 'Invoice Parser', type: 'agent', category: 'extractor', created_at: '2026-03-01T00:00:00Z' })
    for (const tpl of r.body.templates) {
      expect(tpl.id).toMatch(/^tpl_[a-z_]+$/)
      expect(tpl.system_prompt.length).toBeGreaterThan(400)
      expect(Array.isArray(JSON.parse(tpl.suggested_mcps))).toBe(true)
      const schema = JSON.parse(tpl.output_schema)
      expect(schema.type).toBe('object')
      expect(schema.required.every((f: string) => f in schema.properties)).toBe(true)
    }
  })

  test('type=webhook: webhook templates (GitHub issues, Stripe events)', async () => {
    const r = await req('GET', '/api/agent-endpoints/templates/list?type=webhook')
    expect(r.status).toBe(200)
    const ids = r.body.templates.map((x: any) => x.id)
    expect(ids).toContain('tpl_github_issue_triager')
    expect(ids).toContain('tpl_stripe_event_summarizer')
    expect(r.body.templates.every((x: any) => x.type === 'webhook')).toBe(true)
  })

  test('no type: all; bad type: 400', async () => {
    const all = await req('GET', '/api/agent-endpoints/templates/list')
    expect(all.body.templates.length).toBe(count(env.t, 'endpoint_templates'))
    const bad = await req('GET', '/api/agent-endpoints/templates/list?type=robot')
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatch(/type/)
  })

  test('create from template_id fills prompt, schema, format and description', async () => {
    const r = await req('POST', '/api/agent-endpoints', { token: alice.token, body: { workspace_id: alice.ws, template_id: 'tpl_support_ticket_classifier' } })
    expect(r.status).toBe(201)
    const tpl = env.t.k.db.query<any, []>("SELECT * FROM endpoint_templates WHERE id = 'tpl_support_ticket_classifier'").get()
    expect(r.body.endpoint).toMatchObject({
      name: 'Support Ticket Classifier', slug: 'support-ticket-classifier', system_prompt: tpl.system_prompt, output_format: 'json',
      description: tpl.description, template_id: 'tpl_support_ticket_classifier', agent_type: 'extractor',
    })
    expect(r.body.endpoint.output_schema).toEqual(JSON.parse(tpl.output_schema))
    const own = await req('POST', '/api/agent-endpoints', { token: alice.token, body: { ...base(), template_id: 'tpl_email_drafter', output_format: 'markdown' } })
    expect(own.body.endpoint).toMatchObject({ name: 'Summarizer', system_prompt: 'You summarize.', output_format: 'markdown' })
  })

  test('the migration seeds them (embedded SQL)', () => {
    const sql = readFileSync(join(import.meta.dir, '../migrations/0004_endpoints.sql'), 'utf8')
    for (const n of AGENT) expect(sql).toContain(`'${n}'`)
  })
})
