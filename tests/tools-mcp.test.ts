import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testApp } from './helpers'
import { dynamicServer, everythingStdio, startEverything, type RunningServer } from './fixtures/mcp-servers'
import { flushToolCalls } from '../src/tools/audit'

/**
 * Workspace MCP servers and the tool API against real MCP servers: the npm reference server over
 * Streamable HTTP, HTTP+SSE and stdio, and a tiny SDK server over stdio whose tool list changes.
 */

const t = testApp({ env: { AGENTBASE_ALLOW_STDIO_MCP: 'on' } })
const noStdio = testApp()
const strict = testApp({ env: { AGENTBASE_OUTBOUND_ALLOW: '' } })
const dir = mkdtempSync(join(tmpdir(), 'agentbase-mcp-'))
const toolsFile = join(dir, 'tools.json')
writeFileSync(toolsFile, JSON.stringify(['ping', 'crash', 'slow', 'secret_env']))

let http: RunningServer
let admin: { token: string; id: string }
let bob: { token: string; id: string }
let ws: string
let bobWs: string
let httpServerId: string
let noStdioAdmin: { token: string }
let noStdioWs: string
const HEADER_SECRET = 'Bearer mcp-header-secret-4242'
const ENV_SECRET = 'env-secret-value-9393'
const texts: string[] = [] // every response body, checked for secrets at the end

async function req(method: string, path: string, opts: { body?: unknown; token?: string } = {}, app = t) {
  const r = await app.req(method, path, { body: opts.body, token: opts.token ?? admin.token })
  texts.push(r.text)
  return r
}

/** Reads an SSE response into events; `until` may act on each event as it arrives (kill a server mid-call). */
async function sse(path: string, body: unknown, until?: (e: any) => Promise<void> | void) {
  const res = await t.app.handle(new Request(`http://localhost${path}`, { method: 'POST', headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }))
  expect(res.headers.get('content-type')).toContain('text/event-stream')
  const reader = res.body!.getReader()
  const events: any[] = []
  let buf = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    buf += new TextDecoder().decode(value)
    let i: number
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, i)
      buf = buf.slice(i + 2)
      const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')
      if (!data) continue
      const e = JSON.parse(data)
      events.push(e)
      texts.push(data)
      await until?.(e)
    }
  }
  return events
}

beforeAll(async () => {
  http = await startEverything('streamableHttp')
  admin = await t.user('admin@example.com')
  bob = await t.user('bob@example.com')
  ws = (await req('POST', '/api/workspaces', { body: { name: 'Main' } })).body.workspace.id
  bobWs = (await req('POST', '/api/workspaces', { body: { name: 'Bob' }, token: bob.token })).body.workspace.id
  noStdioAdmin = await noStdio.user('root@example.com')
  noStdioWs = (await noStdio.req('POST', '/api/workspaces', { body: { name: 'W' }, token: noStdioAdmin.token })).body.workspace.id
})
afterAll(() => { http.close(); t.close(); noStdio.close(); strict.close() })

describe('Streamable HTTP server', () => {
  test('adding a server connects, lists its tools, and hides header values', async () => {
    const r = await req('POST', `/api/workspaces/${ws}/mcp-servers`, { body: { name: 'Everything', url: http.url, headers: { Authorization: HEADER_SECRET } } })
    expect(r.status).toBe(201)
    const s = r.body.mcp_server
    httpServerId = s.id
    expect(s).toMatchObject({ transport: 'http', status: 'connected', error_message: null, has_headers: true, header_names: ['Authorization'], slug: 'everything' })
    expect(s.tool_count).toBeGreaterThanOrEqual(10)
    expect(s.tools.map((x: any) => x.name)).toContain('everything_get_sum')
    expect(s.tools.find((x: any) => x.name === 'everything_trigger_long_running_operation').mcp_name).toBe('trigger-long-running-operation')
    const row = t.k.db.query<{ headers_sealed: string }, [string]>('SELECT headers_sealed FROM mcp_servers WHERE id = ?').get(s.id)!
    expect(row.headers_sealed).not.toContain('mcp-header-secret')
  })

  test('the catalog has built-ins, and the workspace servers only when asked for the workspace', async () => {
    const plain = await req('GET', '/api/mcp/tools')
    expect(plain.body.tools.map((x: any) => x.name)).toEqual(expect.arrayContaining(['http_request', 'current_time']))
    expect(plain.body.tools.some((x: any) => x.name.startsWith('everything_'))).toBe(false)
    const r = await req('GET', `/api/mcp/tools?workspace_id=${ws}`)
    expect(r.status).toBe(200)
    const sum = r.body.tools.find((x: any) => x.name === 'everything_get_sum')
    expect(sum).toMatchObject({ kind: 'mcp', source: `mcp:${httpServerId}`, source_name: 'Everything', available: true })
    expect(sum.input_schema.properties).toHaveProperty('a')
    expect((await req('GET', `/api/mcp/tools?workspace_id=${ws}`, { token: bob.token })).status).toBe(404)
  })

  test('a call returns the result, success and latency, and is audited', async () => {
    const r = await req('POST', '/api/mcp/call', { body: { name: 'everything_get_sum', arguments: { a: 2, b: 3 }, workspace_id: ws } })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ tool: 'everything_get_sum', success: true, error: null })
    expect(r.body.result.content).toContain('5')
    expect(r.body.latency_ms).toBeGreaterThan(0)
    const calls = await req('GET', '/api/mcp/calls?tool=everything_get_sum')
    expect(calls.body.calls[0]).toMatchObject({ id: r.body.call_id, surface: 'api', success: true, workspace_id: ws, source: `mcp:${httpServerId}`, actor: admin.id })
    expect(JSON.parse(calls.body.calls[0].arguments)).toEqual({ a: 2, b: 3 })
  })

  test('bad input: unknown tool 404, schema violations 400 naming the path, validate without running', async () => {
    const before = (await req('GET', '/api/mcp/calls?limit=500')).body.calls.length
    const unknown = await req('POST', '/api/mcp/call', { body: { name: 'everything_nope', arguments: {}, workspace_id: ws } })
    expect(unknown.status).toBe(404)
    expect(unknown.body.code).toBe('unknown_tool')
    const bad = await req('POST', '/api/mcp/call', { body: { name: 'everything_get_sum', arguments: { a: 'two', b: 3 }, workspace_id: ws } })
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ code: 'invalid_arguments', details: { a: 'must be a number' } })
    expect(bad.body.error).toContain('a must be a number')
    const missing = await req('POST', '/api/mcp/call/stream', { body: { name: 'everything_get_sum', arguments: { a: 1 }, workspace_id: ws } })
    expect(missing.status).toBe(400)
    expect(missing.body.details).toEqual({ b: 'is required' })
    const v = await req('POST', '/api/mcp/validate', { body: { name: 'everything_get_sum', arguments: { a: 1, b: 'x' }, workspace_id: ws } })
    expect(v.body).toMatchObject({ valid: false, code: 'invalid_arguments', details: { b: 'must be a number' } })
    const ok = await req('POST', '/api/mcp/validate', { body: { name: 'everything_get_sum', arguments: { a: 1, b: 2 }, workspace_id: ws } })
    expect(ok.body).toMatchObject({ valid: true, tool: { name: 'everything_get_sum' } })
    expect((await req('GET', '/api/mcp/calls?limit=500')).body.calls.length).toBe(before) // nothing ran, nothing recorded
  })

  test('progress notifications stream as tool.progress, ending with tool.completed and run.completed', async () => {
    const events = await sse('/api/mcp/call/stream', { name: 'everything_trigger_long_running_operation', arguments: { duration: 0.3, steps: 3 }, workspace_id: ws })
    expect(events.map((e) => e.type)).toEqual(['run.started', 'tool.started', 'tool.progress', 'tool.progress', 'tool.progress', 'tool.completed', 'run.completed'])
    expect(events.filter((e) => e.type === 'tool.progress').map((e) => [e.progress, e.total])).toEqual([[1, 3], [2, 3], [3, 3]])
    expect(events[5]).toMatchObject({ success: true, tool: 'everything_trigger_long_running_operation' })
    expect(events[6].result.content).toContain('Long running operation completed')
  })

  test('a server that dies mid-call gives a clear error; the pool reconnects once it is back', async () => {
    const events = await sse('/api/mcp/call/stream', { name: 'everything_trigger_long_running_operation', arguments: { duration: 3, steps: 6 }, workspace_id: ws }, async (e) => {
      if (e.type === 'tool.progress' && e.progress === 1) await http.kill()
    })
    const failed = events.at(-1)
    expect(failed.type).toBe('run.failed')
    expect(failed.status).toBe(502)
    expect(failed.error).toContain('MCP server "Everything"')
    expect(failed.error).toMatch(/connection lost/i)
    const s = (await req('GET', `/api/workspaces/${ws}/mcp-servers/${httpServerId}`)).body.mcp_server
    expect(s.status).toBe('error')
    expect(s.error_message).toMatch(/connection lost|could not connect/i)
    const down = await req('POST', '/api/mcp/call', { body: { name: 'everything_echo', arguments: { message: 'x' }, workspace_id: ws } })
    expect(down.status).toBe(502)
    expect(down.body.error).toContain('Could not connect to MCP server "Everything"')
    await http.restart()
    const back = await req('POST', '/api/mcp/call', { body: { name: 'everything_echo', arguments: { message: 'back' }, workspace_id: ws } })
    expect(back.status).toBe(200)
    expect(back.body.result.content).toBe('Echo: back')
    expect((await req('GET', `/api/workspaces/${ws}/mcp-servers/${httpServerId}`)).body.mcp_server.status).toBe('connected')
    flushToolCalls(t.k)
    const failure = t.k.db.query<{ data: string }, []>("SELECT data FROM events WHERE type = 'tool.call.failed' ORDER BY seq").all()
    expect(failure.length).toBeGreaterThanOrEqual(2)
    expect(JSON.parse(failure[0].data)).toMatchObject({ tool: 'everything_trigger_long_running_operation', surface: 'api', server_id: httpServerId, run_id: null, error: expect.stringContaining('connection lost') })
    expect(JSON.parse(failure[0].data).duration_ms).toBeGreaterThan(0)
  })

  test('the older HTTP+SSE transport is used when Streamable HTTP is not spoken', async () => {
    const old = await startEverything('sse')
    try {
      const r = await req('POST', `/api/workspaces/${ws}/mcp-servers`, { body: { name: 'Legacy SSE', url: old.url } })
      expect(r.body.mcp_server).toMatchObject({ status: 'connected' })
      const c = await req('POST', '/api/mcp/call', { body: { name: 'legacy_sse_echo', arguments: { message: 'old' }, workspace_id: ws } })
      expect(c.body.result.content).toBe('Echo: old')
      expect((await req('DELETE', `/api/workspaces/${ws}/mcp-servers/${r.body.mcp_server.id}`)).status).toBe(200)
    } finally { old.close() }
  })

  test('a user-level mcp connection brings the server\'s tools without a workspace', async () => {
    const c = await req('POST', '/api/connections', { body: { platform: 'mcp', name: 'Remote', config: { url: http.url } } })
    expect(c.body.connection).toMatchObject({ status: 'active', platform: 'mcp' })
    expect(c.body.connection.tools).toContain('remote_get_sum')
    const r = await req('POST', '/api/mcp/call', { body: { name: 'remote_get_sum', arguments: { a: 40, b: 2 } } })
    expect(r.body.result.content).toContain('42')
    await req('DELETE', `/api/connections/${c.body.connection.id}`)
  })
})

describe('stdio servers', () => {
  let dynId: string
  test('the reference server over stdio: list and call', async () => {
    const r = await req('POST', `/api/workspaces/${ws}/mcp-servers`, { body: { name: 'Local', transport: 'stdio', ...everythingStdio() } })
    expect(r.status).toBe(201)
    expect(r.body.mcp_server).toMatchObject({ status: 'connected', transport: 'stdio' })
    const c = await req('POST', '/api/mcp/call', { body: { name: 'local_echo', arguments: { message: 'over stdio' }, workspace_id: ws } })
    expect(c.body).toMatchObject({ success: true, result: { content: 'Echo: over stdio' } })
  })

  test('env values are secret; a crash mid-call is a clear error and the next call respawns', async () => {
    const d = dynamicServer(toolsFile)
    const r = await req('POST', `/api/workspaces/${ws}/mcp-servers`, { body: { name: 'Dyn', transport: 'stdio', command: d.command, args: d.args, env: { ...d.env, MCP_SECRET: ENV_SECRET } } })
    expect(r.body.mcp_server).toMatchObject({ status: 'connected', has_env: true, env_names: ['TOOLS_FILE', 'MCP_SECRET'], tool_count: 4 })
    dynId = r.body.mcp_server.id
    const env = await req('POST', '/api/mcp/call', { body: { name: 'dyn_secret_env', arguments: {}, workspace_id: ws } })
    expect(env.body.result.content).toBe('MCP_SECRET is set')
    const crash = await req('POST', '/api/mcp/call', { body: { name: 'dyn_crash', arguments: {}, workspace_id: ws } })
    expect(crash.status).toBe(502)
    expect(crash.body.error).toMatch(/MCP server "Dyn" connection lost/)
    const ping = await req('POST', '/api/mcp/call', { body: { name: 'dyn_ping', arguments: { text: 'again' }, workspace_id: ws } })
    expect(ping.body).toMatchObject({ success: true, result: { content: 'called ping with {"text":"again"}' } })
  })

  test('a hanging tool times out (504) without harming the server', async () => {
    const r = await req('POST', '/api/mcp/call', { body: { name: 'dyn_slow', arguments: { ms: 20000 }, workspace_id: ws, timeout_ms: 300 } })
    expect(r.status).toBe(504)
    expect(r.body).toMatchObject({ code: 'tool_timeout' })
    expect((await req('POST', '/api/mcp/call', { body: { name: 'dyn_slow', arguments: { ms: 1 }, workspace_id: ws } })).body.success).toBe(true)
    expect((await req('GET', '/health')).status).toBeLessThan(500)
  })

  test('a tool list change shows after refresh', async () => {
    writeFileSync(toolsFile, JSON.stringify(['ping', 'brand_new']))
    const before = await req('GET', `/api/mcp/tools?workspace_id=${ws}`)
    expect(before.body.tools.some((x: any) => x.name === 'dyn_brand_new')).toBe(false)
    const r = await req('POST', `/api/workspaces/${ws}/mcp-servers/${dynId}/refresh`)
    expect(r.body.mcp_server.tools.map((x: any) => x.name)).toEqual(['dyn_ping', 'dyn_brand_new'])
    const after = await req('GET', `/api/mcp/tools?workspace_id=${ws}`)
    expect(after.body.tools.some((x: any) => x.name === 'dyn_brand_new')).toBe(true)
    expect(after.body.tools.some((x: any) => x.name === 'dyn_crash')).toBe(false)
  })

  test('a server announcing a new tool list (list_changed) updates the cached list without a refresh', async () => {
    writeFileSync(toolsFile, JSON.stringify(['ping', 'brand_new', 'add_tool']))
    await req('POST', `/api/workspaces/${ws}/mcp-servers/${dynId}/refresh`)
    const r = await req('POST', '/api/mcp/call', { body: { name: 'dyn_add_tool', arguments: { text: 'announced' }, workspace_id: ws } })
    expect(r.body.result.content).toBe('added announced')
    let names: string[] = []
    for (let i = 0; i < 100 && !names.includes('dyn_announced'); i++) {
      await Bun.sleep(20)
      names = (await req('GET', `/api/workspaces/${ws}/mcp-servers/${dynId}`)).body.mcp_server.tools.map((x: any) => x.name)
    }
    expect(names).toEqual(['dyn_ping', 'dyn_brand_new', 'dyn_add_tool', 'dyn_announced'])
  })

  test('disable hides the tools (include_all shows them as unavailable); delete removes the server', async () => {
    const off = await req('PATCH', `/api/workspaces/${ws}/mcp-servers/${dynId}`, { body: { enabled: false } })
    expect(off.body.mcp_server).toMatchObject({ enabled: false, status: 'disabled' })
    const tools = (await req('GET', `/api/mcp/tools?workspace_id=${ws}`)).body.tools
    expect(tools.some((x: any) => x.name === 'dyn_ping')).toBe(false)
    const all = (await req('GET', `/api/mcp/tools?workspace_id=${ws}&include_all=true`)).body.tools
    expect(all.find((x: any) => x.name === 'dyn_ping')).toMatchObject({ available: false, requires_configuration: true })
    const refused = await req('POST', '/api/mcp/call', { body: { name: 'dyn_ping', arguments: {}, workspace_id: ws } })
    expect(refused.status).toBe(409)
    expect(refused.body.error).toBe('Tool "dyn_ping" is not available: MCP server "Dyn" is disabled')
    expect((await req('DELETE', `/api/workspaces/${ws}/mcp-servers/${dynId}`)).body).toEqual({ deleted: true })
    expect((await req('GET', `/api/workspaces/${ws}/mcp-servers/${dynId}`)).status).toBe(404)
  })

  test('closing the kernel stops stdio server processes', async () => {
    const other = testApp({ env: { AGENTBASE_ALLOW_STDIO_MCP: 'on' } })
    const pidFile = join(dir, 'pid')
    try {
      const u = await other.user()
      const w = (await other.req('POST', '/api/workspaces', { body: { name: 'P' }, token: u.token })).body.workspace.id
      const d = dynamicServer(toolsFile)
      const r = await other.req('POST', `/api/workspaces/${w}/mcp-servers`, { token: u.token, body: { name: 'P', transport: 'stdio', command: d.command, args: d.args, env: { ...d.env, PID_FILE: pidFile } } })
      expect(r.body.mcp_server.status).toBe('connected')
    } finally { other.close() }
    const pid = Number(readFileSync(pidFile, 'utf8'))
    const alive = () => { try { process.kill(pid, 0); return true } catch { return false } }
    for (let i = 0; i < 100 && alive(); i++) await Bun.sleep(20)
    expect(alive()).toBe(false)
  })

  test.each([
    ['a non-admin', () => t, () => bob.token, () => bobWs, 'admin_required'],
    ['anyone when the flag is off', () => noStdio, () => noStdioAdmin.token, () => noStdioWs, 'stdio_disabled'],
  ])('stdio is refused for %s (403) and nothing is stored', async (_name, app, token, wsId, code) => {
    const r = await req('POST', `/api/workspaces/${wsId()}/mcp-servers`, { body: { name: 'Nope', transport: 'stdio', command: 'node', args: ['-e', '1'] }, token: token() }, app())
    expect(r.status).toBe(403)
    expect(r.body.code).toBe(code)
    expect((await req('GET', `/api/workspaces/${wsId()}/mcp-servers`, { token: token() }, app())).body.mcp_servers).toEqual([])
  })
})

describe('access and the outbound guard', () => {
  test.each([
    ['no url', { name: 'A' }, 400, 'url is required for an http MCP server'],
    ['http with a command', { name: 'A', transport: 'http', url: 'http://127.0.0.1:1/mcp', command: 'node' }, 400, 'command, args and env are only for stdio MCP servers'],
    ['a bad header name', { name: 'A', url: 'http://127.0.0.1:1/mcp', headers: { 'Bad Header': 'x' } }, 400, 'headers.Bad Header is not a valid header name'],
    ['a header value with a line break', { name: 'A', url: 'http://127.0.0.1:1/mcp', headers: { 'X-A': 'a\r\nX-B: b' } }, 400, 'headers.X-A must not contain line breaks'],
    ['a scheme that is not http(s)', { name: 'A', url: 'file:///etc/passwd' }, 400, 'URL scheme "file" is not allowed'],
    ['a name taken in the workspace', { name: 'everything!', url: 'http://127.0.0.1:1/mcp' }, 409, 'already exists in this workspace'],
  ])('adding a server with %s is refused and writes nothing', async (_n, body, status, message) => {
    const before = (await req('GET', `/api/workspaces/${ws}/mcp-servers`)).body.mcp_servers.length
    const r = await req('POST', `/api/workspaces/${ws}/mcp-servers`, { body })
    expect(r.status).toBe(status)
    expect(r.body.error).toContain(message)
    expect((await req('GET', `/api/workspaces/${ws}/mcp-servers`)).body.mcp_servers.length).toBe(before)
  })

  test('an MCP URL on a private address is refused without the allowlist (400), nothing stored', async () => {
    const u = await strict.user('s@example.com')
    const w = (await strict.req('POST', '/api/workspaces', { body: { name: 'S' }, token: u.token })).body.workspace.id
    const r = await req('POST', `/api/workspaces/${w}/mcp-servers`, { body: { name: 'Internal', url: http.url }, token: u.token }, strict)
    expect(r.status).toBe(400)
    expect(r.body.code).toBe('url_refused')
    expect(r.body.error).toContain('AGENTBASE_OUTBOUND_ALLOW')
    const c = await req('POST', '/api/connections', { body: { platform: 'mcp', name: 'Internal', config: { url: 'http://10.0.0.5/mcp' } }, token: u.token }, strict)
    expect(c.status).toBe(400)
    expect((await req('GET', `/api/workspaces/${w}/mcp-servers`, { token: u.token }, strict)).body.mcp_servers).toEqual([])
    expect((await req('GET', '/api/connections', { token: u.token }, strict)).body.connections).toEqual([])
  })

  test.each([
    ['GET', 'the server', () => `/api/workspaces/${ws}/mcp-servers/${httpServerId}`],
    ['PATCH', 'the server', () => `/api/workspaces/${ws}/mcp-servers/${httpServerId}`],
    ['DELETE', 'the server', () => `/api/workspaces/${ws}/mcp-servers/${httpServerId}`],
    ['POST', 'refresh', () => `/api/workspaces/${ws}/mcp-servers/${httpServerId}/refresh`],
    ['GET', 'it through their own workspace', () => `/api/workspaces/${bobWs}/mcp-servers/${httpServerId}`],
  ])("another user's server: %s %s is 404", async (method, _what, path) => {
    const r = await req(method, path(), { token: bob.token, body: method === 'PATCH' ? { name: 'x' } : undefined })
    expect(r.status).toBe(404)
  })

  test('a call naming another user\'s workspace is 404 and bob\'s calls do not show in the audit log', async () => {
    const r = await req('POST', '/api/mcp/call', { body: { name: 'everything_echo', arguments: { message: 'x' }, workspace_id: ws }, token: bob.token })
    expect(r.status).toBe(404)
    expect((await req('GET', '/api/mcp/calls', { token: bob.token })).body.calls).toEqual([])
  })

  test('no response carried a header or env secret', () => {
    const all = texts.join('\n')
    expect(all).not.toContain('mcp-header-secret')
    expect(all).not.toContain(ENV_SECRET)
    expect(readFileSync(join(t.dir, 'agentbase.db')).toString('latin1')).not.toContain(ENV_SECRET)
  })
})
