/** Agents as MCP tools: the official MCP SDK client against /mcp (stateless Streamable HTTP). */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { createEndpoint, epEnv, userWithWorkspace, type EpEnv, type Ep, type Who } from './endpoints-kit'
import { flushToolCalls } from '../src/tools/audit'

let env: EpEnv
let alice: Who
let bob: Who
let ep: Ep
let pat: string

async function connect(token: string) {
  const transport = new StreamableHTTPClientTransport(new URL('http://localhost/mcp'), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
    fetch: ((url: string | URL, init: RequestInit) => env.t.app.handle(new Request(url, init))) as any,
  })
  const client = new Client({ name: 'test', version: '1.0.0' })
  await client.connect(transport)
  return client
}

beforeAll(async () => {
  env = await epEnv()
  alice = await userWithWorkspace(env.t)
  bob = await userWithWorkspace(env.t)
  ep = await createEndpoint(env.t, alice, { name: 'Summarizer', description: 'Summarizes text' })
  await createEndpoint(env.t, alice, { name: 'Typed', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } })
  await createEndpoint(env.t, bob, { name: 'Bob only' })
  pat = (await env.t.req('POST', '/api/tokens', { token: alice.token, body: { name: 'mcp', scopes: ['endpoints.run'] } })).body.key
})
afterAll(() => env.close())

describe('/mcp', () => {
  test('tools/list: one tool per active endpoint the token may run, with a JSON Schema input', async () => {
    const c = await connect(pat)
    const { tools } = await c.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual([ep.slug, 'typed'].sort())
    const s = tools.find((t) => t.name === ep.slug)!
    expect(s.description).toBe('Summarizes text')
    expect(s.inputSchema).toEqual({ type: 'object', properties: { input: { type: 'string', description: expect.any(String) } }, required: ['input'], additionalProperties: false })
    expect(tools.find((t) => t.name === 'typed')!.inputSchema.properties).toEqual({ city: { type: 'string' } })
    await c.close()
  })

  test('tools/call runs the agent, sends progress, and is in the tool audit log with its run', async () => {
    env.llm.reply({ chunks: ['Short ', 'summary'] })
    const c = await connect(pat)
    const progress: any[] = []
    const r: any = await c.callTool({ name: ep.slug, arguments: { input: 'A long text' } }, undefined, { onprogress: (p) => progress.push(p) })
    expect(r.isError).toBe(false)
    expect(r.content).toEqual([{ type: 'text', text: 'Short summary' }])
    expect(r._meta.run_id).toMatch(/^run_/)
    expect(progress.length).toBeGreaterThanOrEqual(2)
    expect(progress.map((p) => p.message).join('')).toBe('Short summary')
    expect(env.llm.requests.at(-1)!.body.messages.at(-1).content).toBe('A long text')
    flushToolCalls(env.t.k)
    const calls = await env.t.req('GET', `/api/mcp/calls`, { token: alice.token })
    const row = calls.body.calls.find((x: any) => x.run_id === r._meta.run_id)
    expect(row).toMatchObject({ tool: ep.slug, surface: 'mcp', success: true, source: `endpoint:${ep.id}` })
    expect(env.t.k.runs.get(r._meta.run_id)).toMatchObject({ source: 'mcp', source_id: ep.id, status: 'success', output: 'Short summary' })
    await c.close()
  })

  test('a failing run is an isError result (audited as a failure); unknown tool likewise', async () => {
    env.llm.reply({ status: 400, error: 'bad' })
    const c = await connect(pat)
    const r: any = await c.callTool({ name: ep.slug, arguments: { input: 'x' } })
    expect(r.isError).toBe(true)
    const u: any = await c.callTool({ name: 'bob-only', arguments: { input: 'x' } })
    expect(u.isError).toBe(true)
    expect(u.content[0].text).toContain('Unknown tool')
    flushToolCalls(env.t.k)
    const n = env.t.k.db.query<{ n: number }, []>("SELECT count(*) AS n FROM tool_calls WHERE surface = 'mcp' AND success = 0").get()!.n
    expect(n).toBe(2)
    await c.close()
  })

  test('auth: no token 401; a token without endpoints.run 403; GET is 405 (stateless)', async () => {
    const none = await env.t.req('POST', '/mcp', { body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } })
    expect(none.status).toBe(401)
    const ro = (await env.t.req('POST', '/api/tokens', { token: alice.token, body: { name: 'ro', scopes: ['bots.read'] } })).body.key
    const denied = await connect(ro).catch((e) => e)
    expect(String(denied)).toMatch(/403|endpoints\.run/)
    const get = await env.t.req('GET', '/mcp', { token: pat })
    expect(get.status).toBe(405)
  })

  test('stateless: no session id; a tools/call without initialize works on its own', async () => {
    env.llm.reply({ text: 'direct' })
    const res = await env.t.app.handle(new Request('http://localhost/mcp', {
      method: 'POST',
      headers: { authorization: `Bearer ${pat}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: ep.slug, arguments: { input: 'hi' } } }),
    }))
    expect(res.status).toBe(200)
    expect(res.headers.get('mcp-session-id')).toBeNull()
    const text = await res.text()
    expect(text).toContain('"direct"')
  })

  test('active workflows are tools too (workflows.run): a call is an execution with step progress', async () => {
    const wf = await env.t.req('POST', '/api/workflows/from-steps', { token: alice.token, body: {
      name: 'Greeter', description: 'Greets someone', status: 'active', workspace_id: alice.ws,
      workflow_metadata: { input_schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
      steps: [{ id: 'greet', type: 'transform', template: 'Hello {{ input.name }}' }],
    } })
    expect(wf.status).toBe(201)
    await env.t.req('POST', '/api/workflows/from-steps', { token: alice.token, body: { name: 'Draft one', status: 'draft', steps: [{ id: 'x', type: 'transform', template: 'x' }] } })
    const both = (await env.t.req('POST', '/api/tokens', { token: alice.token, body: { name: 'both', scopes: ['endpoints.run', 'workflows.run'] } })).body.key
    const c = await connect(both)
    const { tools } = await c.listTools()
    const tool = tools.find((t) => t.name === 'workflow_greeter')!
    expect(tool.inputSchema.required).toEqual(['name'])
    expect(tools.some((t) => t.name.includes('draft'))).toBe(false)
    const progress: any[] = []
    const r: any = await c.callTool({ name: 'workflow_greeter', arguments: { name: 'Ada' } }, undefined, { onprogress: (p) => progress.push(p) })
    expect(r.isError).toBe(false)
    expect(r.content[0].text).toContain('Hello Ada')
    expect(r._meta.execution_id).toMatch(/^wfx_/)
    expect(progress.map((p) => p.message)).toEqual(['started: greet', 'completed: greet'])
    flushToolCalls(env.t.k)
    const audit = env.t.k.db.query<{ source: string; surface: string }, []>("SELECT source, surface FROM tool_calls WHERE tool = 'workflow_greeter'").get()
    expect(audit).toEqual({ source: `workflow:${wf.body.id}`, surface: 'mcp' })
    // endpoints.run alone does not list workflows
    const only = await connect(pat)
    expect((await only.listTools()).tools.some((t) => t.name === 'workflow_greeter')).toBe(false)
    await c.close(); await only.close()
  })
})
