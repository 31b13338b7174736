import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { testApp, userWithWorkspace, type TestApp, type Who } from './helpers'
import { startFakePlatforms, type FakePlatforms } from './fixtures/fake-platforms'
import { freePort } from './fixtures/mcp-servers'

/** Ollama status/diagnostic against a fake Ollama and against nothing; the WhatsApp token test and settings debug. */

function fakeOllama(models = [{ name: 'llama3.2:latest', size: 2019393189, modified_at: '2026-01-02T03:04:05Z', details: { family: 'llama', parameter_size: '3.2B' } }]) {
  const seen: string[] = []
  const server = Bun.serve({
    port: 0, hostname: '127.0.0.1',
    fetch(req) {
      const path = new URL(req.url).pathname
      seen.push(path)
      if (path === '/api/version') return Response.json({ version: '0.5.7' })
      if (path === '/api/tags') return Response.json({ models })
      return new Response('not found', { status: 404 })
    },
  })
  return { url: `http://127.0.0.1:${server.port}`, seen, close: () => server.stop(true) }
}

describe('Ollama', () => {
  let ollama: ReturnType<typeof fakeOllama>
  let up: TestApp
  let down: TestApp
  let empty: ReturnType<typeof fakeOllama>
  let emptyApp: TestApp
  let u: Who
  let d: Who
  let e: Who
  let deadPort = 0
  beforeAll(async () => {
    ollama = fakeOllama()
    empty = fakeOllama([])
    deadPort = await freePort()
    up = testApp({ env: { OLLAMA_HOST: ollama.url } })
    down = testApp({ env: { OLLAMA_HOST: `http://127.0.0.1:${deadPort}` } })
    emptyApp = testApp({ env: { OLLAMA_HOST: empty.url } })
    u = await userWithWorkspace(up)
    d = await userWithWorkspace(down)
    e = await userWithWorkspace(emptyApp)
  })
  afterAll(() => { up.close(); down.close(); emptyApp.close(); ollama.close(); empty.close() })

  test('status: reachable, version and models', async () => {
    const r = await up.req('GET', '/api/chat/ollama/status', { token: u.token })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ available: true, url: ollama.url, configured: true, version: '0.5.7', error: null, fix: null })
    expect(r.body.models).toEqual([{ name: 'llama3.2:latest', size: 2019393189, modified_at: '2026-01-02T03:04:05Z', family: 'llama', parameter_size: '3.2B' }])
    expect(ollama.seen).toEqual(expect.arrayContaining(['/api/version', '/api/tags']))
  })

  test('status against nothing: the URL tried, the error, the fix in words', async () => {
    const r = await down.req('GET', '/api/chat/ollama/status', { token: d.token })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ available: false, url: `http://127.0.0.1:${deadPort}`, version: null, models: [] })
    expect(r.body.error).toBeTruthy()
    expect(r.body.fix).toContain('OLLAMA_HOST=0.0.0.0')
    expect(r.body.fix).toContain('127.0.0.1')
  })

  test('diagnostic: every check in order; failures say what to do', async () => {
    const ok = await up.req('GET', '/api/chat/ollama/diagnostic', { token: u.token })
    expect(ok.body.ok).toBe(true)
    expect(ok.body.checks.map((c: any) => c.name)).toEqual(['OLLAMA_HOST', 'url', 'reachable', 'version', 'models'])
    expect(ok.body.checks.every((c: any) => c.ok)).toBe(true)
    const bad = await down.req('GET', '/api/chat/ollama/diagnostic', { token: d.token })
    expect(bad.body.ok).toBe(false)
    expect(bad.body.checks.find((c: any) => c.name === 'reachable')).toMatchObject({ ok: false })
    expect(bad.body.checks.find((c: any) => c.name === 'reachable').detail).toContain('connection_refused')
    expect(bad.body.fix).toContain('ollama serve')
    const none = await emptyApp.req('GET', '/api/chat/ollama/diagnostic', { token: e.token })
    expect(none.body.ok).toBe(false)
    expect(none.body.checks.find((c: any) => c.name === 'models')).toMatchObject({ ok: false })
    expect(none.body.fix).toContain('ollama pull')
  })

  test('needs a signed-in caller', async () => {
    expect((await up.req('GET', '/api/chat/ollama/status')).status).toBe(401)
  })
})

describe('WhatsApp diagnostics', () => {
  let fake: FakePlatforms
  let t: TestApp
  let alice: Who
  let bob: Who
  let conn = ''
  const TOKEN = 'EAAGwhatsappSecretToken0123456789abcdef'
  beforeAll(async () => {
    fake = await startFakePlatforms()
    t = testApp({ env: { ...fake.env } })
    alice = await userWithWorkspace(t)
    bob = await userWithWorkspace(t)
    const r = await t.req('POST', '/api/connections', { token: alice.token, body: { platform: 'whatsapp', name: 'Shop line', config: { access_token: TOKEN, phone_number_id: '1234567890' } } })
    if (r.status !== 201) throw new Error(`connection: ${r.status} ${r.text}`)
    conn = r.body.connection.id
  })
  afterAll(() => { t.close(); fake.close() })

  test('test-token: valid against the platform API, with the phone number it belongs to', async () => {
    const r = await t.req('GET', '/api/mcp/whatsapp/test-token', { token: alice.token })
    expect(r.status).toBe(200)
    expect(r.body.all_valid).toBe(true)
    expect(r.body.results).toHaveLength(1)
    expect(r.body.results[0]).toMatchObject({ connection_id: conn, name: 'Shop line', valid: true, status_code: 200, phone_number_id: '1234567890' })
    expect(r.body.results[0].phone_number).toMatchObject({ id: '1234567890', display_phone_number: '+1 555-0100', verified_name: 'Fake Business' })
    expect(fake.callsOf('whatsapp', 'getPhoneNumber').at(-1)!.token).toBe(TOKEN)
    expect(r.text).not.toContain(TOKEN)
  })

  test('test-token: an expired token is reported invalid with the platform error and a hint', async () => {
    fake.invalidTokens.add(TOKEN)
    try {
      const r = await t.req('GET', `/api/mcp/whatsapp/test-token?connection_id=${conn}`, { token: alice.token })
      expect(r.body.all_valid).toBe(false)
      expect(r.body.results[0]).toMatchObject({ valid: false, status_code: 401, error_code: 190 })
      expect(r.body.results[0].error).toContain('Invalid OAuth access token')
      expect(r.body.results[0].hint).toMatch(/new system user token/)
    } finally { fake.invalidTokens.delete(TOKEN) }
  })

  test('debug: every setting, secrets masked', async () => {
    const r = await t.req('GET', '/api/mcp/whatsapp/debug', { token: alice.token })
    expect(r.status).toBe(200)
    expect(r.body.api_url).toBe(fake.env.WHATSAPP_API_URL)
    expect(r.body.api_url_source).toBe('WHATSAPP_API_URL')
    const c = r.body.connections[0]
    expect(c).toMatchObject({ id: conn, name: 'Shop line', status: 'active', has_access_token: true })
    expect(c.settings.phone_number_id).toBe('1234567890')
    expect(c.settings.access_token).toBe(`EAAG…cdef (${TOKEN.length} chars)`)
    expect(r.text).not.toContain(TOKEN)
  })

  test("others' connections: not listed, and 404 by id", async () => {
    const r = await t.req('GET', '/api/mcp/whatsapp/debug', { token: bob.token })
    expect(r.body.connections).toEqual([])
    expect((await t.req('GET', '/api/mcp/whatsapp/test-token', { token: bob.token })).body.results).toEqual([])
    expect((await t.req('GET', `/api/mcp/whatsapp/test-token?connection_id=${conn}`, { token: bob.token })).status).toBe(404)
    expect((await t.req('GET', `/api/mcp/whatsapp/debug?connection_id=${conn}`, { token: bob.token })).status).toBe(404)
  })
})
