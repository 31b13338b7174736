/** Bot templates (public reads, user CRUD, system 403) and the setup wizard (one transaction: all or nothing). */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { botsEnv, userWithWorkspace, type BotsEnv, type Who } from './bots-kit'
import { loadBot } from '../plugins/bots/record'

let env: BotsEnv, alice: Who, bob: Who
const SYSTEM = ['tpl_booking', 'tpl_faq', 'tpl_it_helpdesk', 'tpl_lead_qualification', 'tpl_support']

beforeAll(async () => {
  env = await botsEnv()
  alice = await userWithWorkspace(env.t)
  bob = await userWithWorkspace(env.t)
})
afterAll(() => env.close())

const req = (...a: Parameters<BotsEnv['t']['req']>) => env.t.req(...a)
const counts = () => Object.fromEntries(['workspaces', 'mcp_servers', 'bots', 'bot_templates'].map((t) =>
  [t, env.t.k.db.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${t}`).get()!.n]))
const tplBody = (extra: Record<string, unknown> = {}) => ({
  name: 'Pizza orders', description: 'Takes pizza orders', category: 'orders',
  system_prompt: 'You take orders for {{shop}} in {{city}}.', ...extra,
})

describe('system templates', () => {
  test('seeded by the migration with real prompts, placeholders and suggested MCP servers', async () => {
    const r = await req('GET', '/api/bots/templates')
    expect(r.status).toBe(200)
    expect(r.body.templates.map((t: any) => t.id).sort()).toEqual(SYSTEM)
    for (const t of r.body.templates) {
      expect(t.is_system).toBe(true)
      expect(t.system_prompt.length).toBeGreaterThan(200)
      expect(t.placeholders.length).toBeGreaterThan(0)
      for (const p of t.placeholders) expect(t.config_fields.some((f: any) => f.key === p)).toBe(true)
    }
    const support = r.body.templates.find((t: any) => t.id === 'tpl_support')
    expect(support.placeholders).toContain('company_name')
    expect(support.suggested_mcp_servers[0]).toMatchObject({ url: expect.stringMatching(/^https:\/\//), transport: 'http' })
  })

  const listCases: { q: string; status: number; ids?: string[] | number }[] = [
    { q: '?type=faq', status: 200, ids: ['tpl_faq'] },
    { q: '?type=support', status: 200, ids: ['tpl_support'] },
    { q: '?type=nothing', status: 200, ids: [] },
    { q: '?limit=2', status: 200, ids: 2 },
    { q: '?limit=1', status: 200, ids: 1 },
    { q: '?limit=100', status: 200, ids: 5 },
    { q: '?limit=0', status: 400 },
    { q: '?limit=101', status: 400 },
  ]
  for (const c of listCases) {
    test(`list ${c.q} -> ${c.status}`, async () => {
      const r = await req('GET', `/api/bots/templates${c.q}`)
      expect(r.status).toBe(c.status)
      if (Array.isArray(c.ids)) expect(r.body.templates.map((t: any) => t.id)).toEqual(c.ids)
      else if (c.ids !== undefined) expect(r.body.templates).toHaveLength(c.ids)
    })
  }

  test('get without auth; unknown 404', async () => {
    const r = await req('GET', '/api/bots/templates/tpl_support')
    expect(r.status).toBe(200)
    expect(r.body.template).toMatchObject({ id: 'tpl_support', name: 'Customer Support', category: 'support', is_system: true })
    expect((await req('GET', '/api/bots/templates/tpl_nope')).status).toBe(404)
  })

  test('system templates cannot be updated or deleted (403), and stay unchanged', async () => {
    const before = (await req('GET', '/api/bots/templates/tpl_faq')).body.template
    const p = await req('PATCH', '/api/bots/templates/tpl_faq', { token: alice.token, body: { name: 'Mine now' } })
    expect(p.status).toBe(403)
    expect(p.body.error).toMatch(/System templates/)
    expect((await req('DELETE', '/api/bots/templates/tpl_faq', { token: alice.token })).status).toBe(403)
    expect((await req('GET', '/api/bots/templates/tpl_faq')).body.template).toEqual(before)
  })
})

describe('user templates', () => {
  let id: string
  const createCases: { name: string; body: Record<string, unknown>; status: number; error?: RegExp; token?: () => string | undefined }[] = [
    { name: 'no auth', body: tplBody(), status: 401, token: () => undefined },
    { name: 'missing category', body: { ...tplBody(), category: undefined }, status: 400, error: /category/i },
    { name: 'missing description', body: { ...tplBody(), description: undefined }, status: 400, error: /description/i },
    { name: 'missing system_prompt', body: { ...tplBody(), system_prompt: undefined }, status: 400, error: /system_prompt/i },
    { name: 'category with spaces', body: tplBody({ category: 'Pizza Orders' }), status: 400, error: /category/i },
    { name: 'server url not http', body: tplBody({ suggested_mcp_servers: [{ name: 'x', url: 'ftp://x' }] }), status: 400, error: /url/i },
    { name: 'name at 100', body: tplBody({ name: 'n'.repeat(100) }), status: 201 },
    { name: 'name at 101', body: tplBody({ name: 'n'.repeat(101) }), status: 400, error: /name/i },
  ]
  for (const c of createCases) {
    test(`create: ${c.name}`, async () => {
      const before = counts().bot_templates
      const r = await req('POST', '/api/bots/templates', { token: c.token ? c.token() : alice.token, body: c.body })
      expect(r.status).toBe(c.status)
      if (c.error) expect(r.body.error).toMatch(c.error)
      expect(counts().bot_templates).toBe(before + (c.status === 201 ? 1 : 0))
    })
  }

  test('create: placeholders become config fields; visible to the owner only', async () => {
    const r = await req('POST', '/api/bots/templates', {
      token: alice.token, body: tplBody({ config_fields: [{ key: 'city', label: 'City', default: 'Naples' }] }),
    })
    expect(r.status).toBe(201)
    id = r.body.template.id
    expect(id).toMatch(/^tpl_/)
    expect(r.body.template).toMatchObject({ is_system: false, placeholders: ['shop', 'city'] })
    expect(r.body.template.config_fields).toEqual([{ key: 'city', label: 'City', default: 'Naples' }, { key: 'shop', required: true }])
    expect((await req('GET', `/api/bots/templates/${id}`, { token: alice.token })).status).toBe(200)
    expect((await req('GET', `/api/bots/templates/${id}`, { token: bob.token })).status).toBe(404)
    expect((await req('GET', `/api/bots/templates/${id}`)).status).toBe(404)
    const mine = await req('GET', '/api/bots/templates?type=orders', { token: alice.token })
    expect(mine.body.templates.map((t: any) => t.id)).toContain(id)
    expect((await req('GET', '/api/bots/templates?type=orders', { token: bob.token })).body.templates.map((t: any) => t.id)).not.toContain(id)
    expect((await req('GET', '/api/bots/templates?type=orders')).body.templates.map((t: any) => t.id)).not.toContain(id)
  })

  test('update: owner 200; others 404', async () => {
    const r = await req('PATCH', `/api/bots/templates/${id}`, { token: alice.token, body: { description: 'Orders, faster', system_prompt: 'Orders for {{shop}}.' } })
    expect(r.status).toBe(200)
    expect(r.body.template).toMatchObject({ description: 'Orders, faster', placeholders: ['shop'] })
    expect((await req('PATCH', `/api/bots/templates/${id}`, { token: bob.token, body: { name: 'x' } })).status).toBe(404)
    expect((await req('PATCH', `/api/bots/templates/${id}`, { body: { name: 'x' } })).status).toBe(401)
  })

  test('delete: others 404, owner 200, then gone', async () => {
    expect((await req('DELETE', `/api/bots/templates/${id}`, { token: bob.token })).status).toBe(404)
    const d = await req('DELETE', `/api/bots/templates/${id}`, { token: alice.token })
    expect(d.status).toBe(200)
    expect(d.body).toEqual({ deleted: true })
    expect((await req('GET', `/api/bots/templates/${id}`, { token: alice.token })).status).toBe(404)
  })
})

describe('POST /api/bots/setup', () => {
  test('creates a workspace, attaches the MCP servers and creates the bot with config_values filled in', async () => {
    const before = counts()
    const r = await req('POST', '/api/bots/setup', {
      token: alice.token,
      body: { template_id: 'tpl_support', bot_name: 'Acme Support', platform: 'telegram', platform_config: { bot_token: '123:ABC' }, config_values: { company_name: 'Acme Corp' } },
    })
    expect(r.status).toBe(201)
    const { bot, workspace, mcp_servers, warnings } = r.body
    expect(bot).toMatchObject({ name: 'Acme Support', platform: 'telegram', status: 'draft', template_id: 'tpl_support', has_platform_config: true, workspace_id: workspace.id })
    expect(bot.system_prompt).toContain('customer support assistant for Acme Corp')
    expect(bot.system_prompt).toContain('30 days') // a default filled in
    expect(bot.system_prompt).not.toContain('{{')
    expect(bot.welcome_message).toBe("Hi! I'm the Acme Corp support assistant. How can I help you today?")
    expect(r.text).not.toContain('123:ABC')
    expect(mcp_servers).toHaveLength(1)
    expect(mcp_servers[0]).toMatchObject({ workspace_id: workspace.id, transport: 'http', url: 'https://mcp.deepwiki.com/mcp' })
    expect(warnings).toEqual([])
    expect(counts()).toMatchObject({ workspaces: before.workspaces + 1, mcp_servers: before.mcp_servers + 1, bots: before.bots + 1 })
    const got = await req('GET', `/api/bots/${bot.id}`, { token: alice.token })
    expect(got.body.bot.template).toEqual({ id: 'tpl_support', name: 'Customer Support', category: 'support', is_system: true })
  })

  test('defaults: bot name from the template, platform custom; an empty server URL is skipped with a warning; llm_api_key -> byok', async () => {
    const r = await req('POST', '/api/bots/setup', { token: alice.token, body: { template_id: 'tpl_booking', llm_api_key: 'sk-wizard' } })
    expect(r.status).toBe(201)
    expect(r.body.bot).toMatchObject({ name: 'Booking Assistant', platform: 'custom', billing_mode: 'byok', has_llm_api_key: true })
    expect(r.body.mcp_servers).toEqual([])
    expect(r.body.warnings[0]).toMatch(/Calendar.*skipped/)
    expect(loadBot(env.t.k, r.body.bot.id)!.llm_api_key).toBe('sk-wizard')
    expect(r.text).not.toContain('sk-wizard')
  })

  const atomic: { name: string; body: () => Record<string, unknown>; status: number; error: RegExp; prep?: () => Promise<string> }[] = [
    // The bot is created last, inside the transaction: its platform_config check fails after the workspace and server rows were written.
    { name: 'bot creation fails after workspace and servers were inserted', body: () => ({ template_id: 'tpl_support', platform: 'telegram' }), status: 400, error: /platform_config\.bot_token/ },
    { name: 'attaching the second of two servers fails (same name)', status: 409, error: /already exists/, body: () => ({ template_id: dupTpl }) },
    { name: 'a server URL filled in from config_values is not a URL', body: () => ({ template_id: 'tpl_booking', config_values: { calendar_mcp_url: 'not a url' } }), status: 400, error: /Invalid MCP server URL/ },
    { name: 'a required placeholder without a value', body: () => ({ template_id: reqTpl }), status: 400, error: /config_values is missing "shop"/ },
    { name: 'unknown template', body: () => ({ template_id: 'tpl_nope' }), status: 404, error: /Template not found/ },
    { name: "someone else's template", body: () => ({ template_id: bobTpl }), status: 404, error: /Template not found/ },
    { name: 'platform unknown', body: () => ({ template_id: 'tpl_support', platform: 'irc' }), status: 400, error: /platform/i },
  ]
  let dupTpl = '', reqTpl = '', bobTpl = ''
  beforeAll(async () => {
    const servers = [{ name: 'Docs', url: 'https://docs.example.com/mcp' }, { name: 'Docs', url: 'https://other.example.com/mcp' }]
    dupTpl = (await req('POST', '/api/bots/templates', { token: alice.token, body: tplBody({ system_prompt: 'Static prompt.', suggested_mcp_servers: servers }) })).body.template.id
    reqTpl = (await req('POST', '/api/bots/templates', { token: alice.token, body: tplBody({ config_fields: [{ key: 'city', default: 'Rome' }] }) })).body.template.id
    bobTpl = (await req('POST', '/api/bots/templates', { token: bob.token, body: tplBody({ system_prompt: 'Bob only.' }) })).body.template.id
  })
  for (const c of atomic) {
    test(`nothing half-created: ${c.name}`, async () => {
      const before = counts()
      const r = await req('POST', '/api/bots/setup', { token: alice.token, body: c.body() })
      expect(r.status).toBe(c.status)
      expect(r.body.error).toMatch(c.error)
      expect(counts()).toEqual(before)
    })
  }

  test('auth required; a workspace-bound token may not run the wizard', async () => {
    expect((await req('POST', '/api/bots/setup', { body: { template_id: 'tpl_support' } })).status).toBe(401)
    const tok = await req('POST', '/api/tokens', { token: alice.token, body: { name: 'ws', type: 'workspace', workspace_id: alice.ws } })
    expect(tok.status).toBe(201)
    const before = counts()
    const r = await req('POST', '/api/bots/setup', { token: tok.body.key, body: { template_id: 'tpl_faq' } })
    expect(r.status).toBe(403)
    expect(counts()).toEqual(before)
  })
})
