import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { testApp } from './helpers'
import { startFakeToolApis, type FakeToolApis } from './fixtures/fake-tool-apis'
import { flushToolCalls } from '../src/tools/audit'

/** Connections against fake platform APIs that record requests: auth on create, test, each shipped tool, access, secrets. */

let fake: FakeToolApis
let t: ReturnType<typeof testApp>
const strict = testApp({ env: { AGENTBASE_OUTBOUND_ALLOW: '' } })
let alice: { token: string; id: string }
let bob: { token: string; id: string }
const texts: string[] = []
const SECRETS = ['xoxb-good', 'xoxb-bad-credential', '123:good', 'discord-good', 'wa-good', 'ghp_good', 'rest-good']
const ids: Record<string, string> = {}

async function req(method: string, path: string, opts: { body?: unknown; token?: string } = {}) {
  const r = await t.req(method, path, { body: opts.body, token: opts.token ?? alice.token })
  texts.push(r.text)
  return r
}
const call = (name: string, args: Record<string, unknown>, token?: string) => req('POST', '/api/mcp/call', { body: { name, arguments: args }, token })

beforeAll(async () => {
  fake = await startFakeToolApis()
  t = testApp({ env: fake.env })
  alice = await t.user('alice@example.com')
  bob = await t.user('bob@example.com')
})
afterAll(() => { t.close(); strict.close(); fake.close() })

describe('creating connections', () => {
  test('the platform registry lists config schemas, tools and docs', async () => {
    const r = await req('GET', '/api/connections/platforms')
    expect(r.status).toBe(200)
    const byId = Object.fromEntries(r.body.platforms.map((p: any) => [p.id, p]))
    expect(Object.keys(byId)).toEqual(['slack', 'telegram', 'discord', 'whatsapp', 'github', 'http', 'mcp'])
    expect(byId.slack.tools.map((x: any) => x.name)).toEqual(['slack_send_message', 'slack_list_channels'])
    expect(byId.github.tools.map((x: any) => x.name)).toEqual(['github_list_issues', 'github_create_issue', 'github_get_file'])
    expect(byId.slack.config_schema.required).toEqual(['bot_token'])
    expect(byId.whatsapp.secret_fields).toEqual(['access_token'])
    expect(byId.telegram.docs_url).toStartWith('https://')
  })

  test.each([
    ['slack', { bot_token: 'xoxb-good' }, { team: 'Acme', user: 'agentbot' }, ['slack_send_message', 'slack_list_channels'], 'auth.test'],
    ['telegram', { bot_token: '123:good' }, { username: 'agent_bot' }, ['telegram_send_message'], 'getMe'],
    ['discord', { bot_token: 'discord-good' }, { username: 'agentbot' }, ['discord_send_message'], 'getMe'],
    ['whatsapp', { access_token: 'wa-good', phone_number_id: '1234567890' }, { verified_name: 'Acme' }, ['whatsapp_send_text'], 'getPhoneNumber'],
    ['github', { token: 'ghp_good' }, { login: 'octo' }, ['github_list_issues', 'github_create_issue', 'github_get_file'], 'getUser'],
  ])('%s with good credentials is active and enables its tools', async (platform, config, account, tools, authMethod) => {
    const before = fake.of(platform as any, authMethod).length
    const r = await req('POST', '/api/connections', { body: { platform, name: `My ${platform}`, config } })
    expect(r.status).toBe(201)
    expect(r.body.connection).toMatchObject({ platform, status: 'active', error_message: null, account, tools, has_config: true })
    expect(r.body.connection.config).toBeUndefined()
    expect(fake.of(platform as any, authMethod).length).toBe(before + 1)
    ids[platform] = r.body.connection.id
  })

  test.each([
    ['slack', { bot_token: 'xoxb-bad-credential' }, 'Slack: invalid_auth'],
    ['telegram', { bot_token: '999:bad' }, 'Telegram: Unauthorized'],
    ['discord', { bot_token: 'nope' }, 'Discord: 401: Unauthorized'],
    ['whatsapp', { access_token: 'bad', phone_number_id: '1234567890' }, 'WhatsApp: Invalid OAuth access token - Cannot parse access token'],
    ['github', { token: 'ghp_bad' }, 'GitHub: Bad credentials (HTTP 401)'],
    ['http', { base_url: 'PLACEHOLDER', auth_value: 'Bearer wrong', test_path: '/me' }, 'HTTP 401: {"error":"invalid api key"}'],
  ])('%s with bad credentials is stored with status error and the platform\'s message', async (platform, config, message) => {
    const cfg = { ...config } as Record<string, string>
    if (cfg.base_url === 'PLACEHOLDER') cfg.base_url = `${fake.url}/rest`
    const r = await req('POST', '/api/connections', { body: { platform, name: `Bad ${platform}`, config: cfg } })
    expect(r.status).toBe(201)
    expect(r.body.connection).toMatchObject({ status: 'error', error_message: message })
    const tools = (await req('GET', '/api/mcp/tools')).body.tools
    expect(tools.filter((x: any) => x.source === `connection:${r.body.connection.id}`)).toEqual([])
    await req('DELETE', `/api/connections/${r.body.connection.id}`)
  })

  test('test before save: good and bad configs, nothing stored', async () => {
    const count = (await req('GET', '/api/connections')).body.connections.length
    const good = await req('POST', '/api/connections/test', { body: { platform: 'slack', config: { bot_token: 'xoxb-good' } } })
    expect(good.body).toMatchObject({ ok: true, status: 'active', account: { team: 'Acme' }, tools: ['slack_send_message', 'slack_list_channels'] })
    const bad = await req('POST', '/api/connections/test', { body: { platform: 'github', config: { token: 'nope' } } })
    expect(bad.body).toMatchObject({ ok: false, status: 'error', error_message: 'GitHub: Bad credentials (HTTP 401)' })
    expect((await req('GET', '/api/connections')).body.connections.length).toBe(count)
  })

  test.each([
    ['unknown platform', { platform: 'myspace', name: 'x', config: {} }, 'Unknown platform "myspace"', { platform: 'unknown platform' }],
    ['missing field', { platform: 'slack', name: 'x', config: {} }, 'config.bot_token is required', { 'config.bot_token': 'is required' }],
    ['unknown field', { platform: 'slack', name: 'x', config: { bot_token: 'xoxb-good', extra: 1 } }, 'config.extra is not a known field', { 'config.extra': 'is not an allowed argument' }],
    ['wrong type', { platform: 'github', name: 'x', config: { token: 42 } }, 'config.token must be a string', { 'config.token': 'must be a string' }],
  ])('bad input (%s) is a 400 that writes nothing', async (_n, body, message, details) => {
    const count = fake.requests.length
    const r = await req('POST', '/api/connections', { body })
    expect(r.status).toBe(400)
    expect(r.body.error).toContain(message)
    expect(r.body.details).toEqual(details)
    expect(fake.requests.length).toBe(count)
  })
})

describe('calling connection tools (what the platform received)', () => {
  test('slack_send_message and slack_list_channels', async () => {
    const r = await call('slack_send_message', { channel: 'C01', text: 'Hello team' })
    expect(r.body).toMatchObject({ success: true, result: { content: 'Message sent to C01 (ts 1700000000.000100)', data: { channel: 'C01' } } })
    const sent = fake.of('slack', 'chat.postMessage').at(-1)!
    expect(sent.body).toEqual({ channel: 'C01', text: 'Hello team' })
    expect(sent.headers.authorization).toBe('Bearer xoxb-good')
    const l = await call('slack_list_channels', { limit: 5 })
    expect(l.body.result.data.channels.map((c: any) => c.name)).toEqual(['general', 'random'])
    expect(fake.of('slack', 'conversations.list').at(-1)!.query).toMatchObject({ limit: '5', types: 'public_channel' })
  })

  test('a platform error is a failed call with its message (200, success false), audited', async () => {
    const r = await call('slack_send_message', { channel: 'C404', text: 'x' })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ success: false, error: 'Slack: channel_not_found', result: { is_error: true } })
    const audit = (await req('GET', '/api/mcp/calls?tool=slack_send_message&limit=1')).body.calls[0]
    expect(audit).toMatchObject({ success: false, error: 'Slack: channel_not_found', source: `connection:${ids.slack}` })
  })

  test('secrets in arguments are redacted in the audit log (by key and by value)', async () => {
    const r = await call('slack_send_message', { channel: 'C01', text: 'leaking xoxb-good here' })
    expect(r.body.success).toBe(true)
    expect(fake.of('slack', 'chat.postMessage').at(-1)!.body.text).toBe('leaking xoxb-good here') // the call itself is untouched
    flushToolCalls(t.k)
    const row = t.k.db.query<{ arguments: string }, []>("SELECT arguments FROM tool_calls WHERE tool = 'slack_send_message' ORDER BY rowid DESC LIMIT 1").get()!
    expect(JSON.parse(row.arguments)).toEqual({ channel: 'C01', text: 'leaking [redacted] here' })
    const h = await call('http_request', { url: `${fake.url}/rest/me`, headers: { Authorization: 'Bearer rest-good' } })
    expect(h.body.success).toBe(true)
    flushToolCalls(t.k)
    const row2 = t.k.db.query<{ arguments: string }, []>("SELECT arguments FROM tool_calls WHERE tool = 'http_request' ORDER BY rowid DESC LIMIT 1").get()!
    expect(JSON.parse(row2.arguments).headers).toEqual({ Authorization: '[redacted]' })
  })

  test('telegram_send_message', async () => {
    const r = await call('telegram_send_message', { chat_id: 42, text: 'Hi from Telegram', parse_mode: 'HTML' })
    expect(r.body).toMatchObject({ success: true, result: { data: { message_id: 77 } } })
    const sent = fake.of('telegram', 'sendMessage').at(-1)!
    expect(sent.path).toBe('/telegram/bot123:good/sendMessage')
    expect(sent.body).toEqual({ chat_id: 42, text: 'Hi from Telegram', parse_mode: 'HTML' })
  })

  test('discord_send_message', async () => {
    const r = await call('discord_send_message', { channel_id: '112233445566', content: 'Hi Discord' })
    expect(r.body).toMatchObject({ success: true, result: { data: { id: '999', channel_id: '112233445566' } } })
    const sent = fake.of('discord', 'createMessage').at(-1)!
    expect(sent.path).toBe('/discord/api/v10/channels/112233445566/messages')
    expect(sent.headers.authorization).toBe('Bot discord-good')
    expect(sent.body).toEqual({ content: 'Hi Discord' })
  })

  test('whatsapp_send_text', async () => {
    const r = await call('whatsapp_send_text', { to: '+15551234567', text: 'Hi WhatsApp' })
    expect(r.body).toMatchObject({ success: true, result: { data: { id: 'wamid.HBgL' } } })
    const sent = fake.of('whatsapp', 'sendMessage').at(-1)!
    expect(sent.path).toBe('/whatsapp/v21.0/1234567890/messages')
    expect(sent.body).toEqual({ messaging_product: 'whatsapp', recipient_type: 'individual', to: '15551234567', type: 'text', text: { body: 'Hi WhatsApp', preview_url: false } })
  })

  test('github_list_issues, github_create_issue, github_get_file', async () => {
    const l = await call('github_list_issues', { owner: 'acme', repo: 'app', state: 'all' })
    expect(l.body.result.data.issues.map((i: any) => i.number)).toEqual([1]) // the pull request is left out
    expect(fake.of('github', 'listIssues').at(-1)!).toMatchObject({ path: '/github/repos/acme/app/issues', query: { state: 'all', per_page: '30' } })
    expect(fake.of('github', 'listIssues').at(-1)!.headers).toMatchObject({ authorization: 'Bearer ghp_good', accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' })
    const c = await call('github_create_issue', { owner: 'acme', repo: 'app', title: 'Broken', body: 'Steps...', labels: ['bug'] })
    expect(c.body).toMatchObject({ success: true, result: { data: { number: 42, url: 'https://github.com/acme/app/issues/42' } } })
    expect(fake.of('github', 'createIssue').at(-1)!.body).toEqual({ title: 'Broken', body: 'Steps...', labels: ['bug'] })
    const f = await call('github_get_file', { owner: 'acme', repo: 'app', path: 'docs/read me.md', ref: 'main' })
    expect(f.body.result.content).toBe('hello world')
    expect(fake.of('github', 'getContent').at(-1)!).toMatchObject({ path: '/github/repos/acme/app/contents/docs/read%20me.md', query: { ref: 'main' } })
    const missing = await call('github_get_file', { owner: 'acme', repo: 'app', path: 'missing.txt' })
    expect(missing.body).toMatchObject({ success: false, error: 'GitHub: Not Found (HTTP 404)' })
  })

  test('schema violations are 400s naming the path, before anything is sent', async () => {
    const count = fake.requests.length
    const r = await call('github_create_issue', { owner: 'acme', repo: 'app', title: 'x', labels: ['ok', 7] })
    expect(r.status).toBe(400)
    expect(r.body).toMatchObject({ code: 'invalid_arguments', details: { 'labels.1': 'must be a string' } })
    const r2 = await call('github_list_issues', { owner: '../etc', repo: 'app' })
    expect(r2.status).toBe(400)
    expect(Object.keys(r2.body.details)).toEqual(['owner'])
    expect(fake.requests.length).toBe(count)
  })

  test('http: declared operations become tools; the generic tool stays under the base URL', async () => {
    const ops = await req('POST', '/api/connections', {
      body: {
        platform: 'http', name: 'Inventory',
        config: {
          base_url: `${fake.url}/rest`, auth_value: 'Bearer rest-good', test_path: '/me',
          operations: [
            { name: 'get_item', description: 'Fetch an item', method: 'GET', path: '/items/{id}' },
            { name: 'create_item', method: 'POST', path: '/items', parameters: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
          ],
        },
      },
    })
    expect(ops.body.connection).toMatchObject({ status: 'active', tools: ['inventory_get_item', 'inventory_create_item'] })
    const g = await call('inventory_get_item', { id: 'a/b', query: { verbose: 1 } })
    expect(g.body.success).toBe(true)
    expect(fake.of('rest').at(-1)!).toMatchObject({ path: '/rest/items/a%2Fb', query: { verbose: '1' }, headers: { authorization: 'Bearer rest-good' } })
    const c = await call('inventory_create_item', { name: 'widget' })
    expect(c.body.result.data).toEqual({ status: 201, body: { created: { name: 'widget' } } })
    const missing = await call('inventory_create_item', {})
    expect(missing.status).toBe(400)

    const generic = await req('POST', '/api/connections', { body: { platform: 'http', name: 'Raw API', config: { base_url: `${fake.url}/rest`, auth_header: 'Authorization', auth_value: 'Bearer rest-good' } } })
    expect(generic.body.connection.tools).toEqual(['raw_api_request'])
    const ok = await call('raw_api_request', { method: 'GET', path: '/items/9' })
    expect(ok.body.result.data.body).toMatchObject({ id: '9' })
    for (const path of ['/../slack/api/auth.test', 'http://127.0.0.1:1/x', '//evil.example/x', '/%2e%2e/slack/api/auth.test']) {
      const count = fake.requests.length
      const bad = await call('raw_api_request', { path })
      expect(bad.body.success).toBe(false)
      expect(bad.body.error).toMatch(/leaves the connection's base URL|must be relative/)
      expect(fake.requests.length).toBe(count)
    }
  })

  test('tools of a second connection of the same platform get the connection name in their prefix', async () => {
    const r = await req('POST', '/api/connections', { body: { platform: 'slack', name: 'Support Slack', config: { bot_token: 'xoxb-good' } } })
    expect(r.body.connection.tools).toEqual(['slack_support_slack_send_message', 'slack_support_slack_list_channels'])
    const c = await call('slack_support_slack_send_message', { channel: 'C02', text: 'second' })
    expect(c.body.success).toBe(true)
    await req('DELETE', `/api/connections/${r.body.connection.id}`)
  })
})

describe('lifecycle and access', () => {
  test('revoked credentials turn an active connection expired; test re-checks', async () => {
    fake.revoked.add('ghp_good')
    const r = await call('github_list_issues', { owner: 'acme', repo: 'app' })
    expect(r.body).toMatchObject({ success: false, error: 'GitHub: Bad credentials (HTTP 401)' })
    const list = (await req('GET', '/api/connections')).body.connections
    expect(list.find((c: any) => c.id === ids.github)).toMatchObject({ status: 'expired', error_message: 'GitHub: Bad credentials (HTTP 401)' })
    const all = (await req('GET', '/api/mcp/tools?include_all=true')).body.tools
    expect(all.find((x: any) => x.name === 'github_list_issues')).toMatchObject({ available: false, reason: expect.stringContaining('expired') })
    const refused = await call('github_list_issues', { owner: 'acme', repo: 'app' })
    expect(refused.status).toBe(409)
    expect(refused.body).toMatchObject({ code: 'tool_unavailable', error: 'Tool "github_list_issues" is not available: Connection "My github" is expired: GitHub: Bad credentials (HTTP 401)' })
    fake.revoked.delete('ghp_good')
    const tested = await req('POST', `/api/connections/${ids.github}/test`)
    expect(tested.body).toMatchObject({ ok: true, status: 'active', account: { login: 'octo' } })
    expect((await call('github_list_issues', { owner: 'acme', repo: 'app' })).body.success).toBe(true)
  })

  test('include_all lists platforms not connected yet as needing configuration', async () => {
    const u = await t.user()
    const all = (await req('GET', '/api/mcp/tools?include_all=true', { token: u.token })).body.tools
    expect(all.find((x: any) => x.name === 'slack_send_message')).toMatchObject({ available: false, requires_configuration: true, reason: expect.stringContaining('Slack connection') })
    const plain = (await req('GET', '/api/mcp/tools', { token: u.token })).body.tools
    expect(plain.map((x: any) => x.name)).toEqual(['http_request', 'current_time'])
  })

  test('PATCH: rename, disable (tools gone), re-activate (re-authenticates), replace config', async () => {
    const renamed = await req('PATCH', `/api/connections/${ids.telegram}`, { body: { name: 'Ops Telegram' } })
    expect(renamed.body.connection).toMatchObject({ name: 'Ops Telegram', status: 'active' })
    const off = await req('PATCH', `/api/connections/${ids.telegram}`, { body: { status: 'disabled' } })
    expect(off.body.connection.status).toBe('disabled')
    expect((await call('telegram_send_message', { chat_id: 1, text: 'x' })).body.code).toBe('tool_unavailable')
    const before = fake.of('telegram', 'getMe').length
    const on = await req('PATCH', `/api/connections/${ids.telegram}`, { body: { status: 'active' } })
    expect(on.body.connection.status).toBe('active')
    expect(fake.of('telegram', 'getMe').length).toBe(before + 1)
    const badCfg = await req('PATCH', `/api/connections/${ids.telegram}`, { body: { config: { bot_token: '555:wrong' } } })
    expect(badCfg.body.connection).toMatchObject({ status: 'error', error_message: 'Telegram: Unauthorized' })
    const fixed = await req('PATCH', `/api/connections/${ids.telegram}`, { body: { config: { bot_token: '123:good' } } })
    expect(fixed.body.connection.status).toBe('active')
    const bad = await req('PATCH', `/api/connections/${ids.telegram}`, { body: { status: 'expired' } })
    expect(bad.status).toBe(400)
  })

  test.each([
    ['PATCH', (id: string) => `/api/connections/${id}`, { name: 'mine now' }],
    ['DELETE', (id: string) => `/api/connections/${id}`, undefined],
    ['POST', (id: string) => `/api/connections/${id}/test`, undefined],
    ['PATCH', () => '/api/connections/con_doesnotexist00000000', { name: 'x' }],
  ])("another user's connection: %s is 404", async (method, path, body) => {
    const r = await req(method, path(ids.slack), { body, token: bob.token })
    expect(r.status).toBe(404)
    expect(r.body.code).toBe('not_found')
  })

  test("bob sees none of alice's connections or tools", async () => {
    expect((await req('GET', '/api/connections', { token: bob.token })).body.connections).toEqual([])
    const r = await call('slack_send_message', { channel: 'C01', text: 'x' }, bob.token)
    expect(r.status).toBe(409) // bob has no Slack connection of his own
    expect(r.body.error).toContain('Needs an active Slack connection')
    expect(r.text).not.toContain('My slack')
    expect((await call('raw_api_request', { path: '/items/1' }, bob.token)).status).toBe(404)
  })

  test('an http connection to a private address is refused without the allowlist (400)', async () => {
    const u = await strict.user('strict@example.com')
    const r = await strict.req('POST', '/api/connections', { token: u.token, body: { platform: 'http', name: 'Internal', config: { base_url: 'http://127.0.0.1:9/api' } } })
    expect(r.status).toBe(400)
    expect(r.body.code).toBe('url_refused')
    expect((await strict.req('GET', '/api/connections', { token: u.token })).body.connections).toEqual([])
  })

  test('delete removes the connection and its tools', async () => {
    expect((await req('DELETE', `/api/connections/${ids.discord}`)).body).toEqual({ deleted: true })
    expect((await call('discord_send_message', { channel_id: '112233445566', content: 'x' })).body.code).toBe('tool_unavailable')
  })

  test('secrets never appear in log lines (debug level)', async () => {
    const logged = testApp({ env: { ...fake.env, LOG_LEVEL: 'debug' } })
    const lines: string[] = []
    const write = process.stdout.write
    process.stdout.write = ((chunk: string | Uint8Array) => { lines.push(String(chunk)); return true }) as typeof process.stdout.write
    try {
      const u = await logged.user()
      for (const cfg of [{ bot_token: 'xoxb-good' }, { bot_token: 'xoxb-bad-credential' }]) {
        await logged.req('POST', '/api/connections', { token: u.token, body: { platform: 'slack', name: 'S', config: cfg } })
      }
      await logged.req('POST', '/api/mcp/call', { token: u.token, body: { name: 'slack_send_message', arguments: { channel: 'C404', text: 'xoxb-good' } } })
      await logged.req('POST', '/api/connections/test', { token: u.token, body: { platform: 'github', config: { token: 'ghp_good' } } })
    } finally {
      process.stdout.write = write
      logged.close()
    }
    expect(lines.length).toBeGreaterThan(3)
    for (const s of SECRETS) expect(lines.join('')).not.toContain(s)
  })

  test('secrets never appear in responses, the audit log, events or the database file', async () => {
    const calls = await req('GET', '/api/mcp/calls?limit=500')
    expect(calls.body.calls.length).toBeGreaterThan(10)
    const events = t.k.db.query<{ data: string }, []>('SELECT data FROM events').all().map((e) => e.data).join('\n')
    const db = readFileSync(join(t.dir, 'agentbase.db')).toString('latin1')
    const all = texts.join('\n')
    for (const s of SECRETS) {
      expect(all).not.toContain(s)
      expect(events).not.toContain(s)
      expect(db).not.toContain(s)
    }
  })
})
