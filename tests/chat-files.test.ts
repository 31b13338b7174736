import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { chatEnv, conversation, history, send, userWithWorkspace, type Who } from './chat-kit'
import type { EpEnv } from './endpoints-kit'
import { startEverything, type RunningServer } from './fixtures/mcp-servers'

/** A binary tool result (the reference MCP server's image) becomes a downloadable attachment of the tool message. */

let env: EpEnv
let alice: Who
let bob: Who
let mcp: RunningServer
let conv = ''
let toolMessage: any
// The reference server's image, read from its source (what the tool returns, base64).
const MCP_TINY_IMAGE = /MCP_TINY_IMAGE = "([^"]+)"/.exec(await Bun.file(`${import.meta.dir}/../node_modules/@modelcontextprotocol/server-everything/dist/tools/get-tiny-image.js`).text())![1]

beforeAll(async () => {
  mcp = await startEverything('streamableHttp')
  env = await chatEnv()
  alice = await userWithWorkspace(env.t)
  bob = await userWithWorkspace(env.t)
  const s = await env.t.req('POST', `/api/workspaces/${alice.ws}/mcp-servers`, { token: alice.token, body: { name: 'Everything', url: mcp.url } })
  if (s.status !== 201) throw new Error(`mcp server: ${s.status} ${s.text}`)
  conv = await conversation(env.t, alice)
})
afterAll(() => { env.close(); mcp.close() })

describe('MCP tools in the catalog', () => {
  test('GET /tools lists the workspace\'s MCP tools; explain-tools ranks them by the message; another user\'s workspace is 404', async () => {
    const tools = await env.t.req('GET', '/api/chat/tools', { token: alice.token })
    expect(tools.body.tools.map((x: any) => x.name)).toContain('everything_get_tiny_image')
    expect(tools.body.tools.find((x: any) => x.name === 'everything_get_tiny_image')).toMatchObject({ kind: 'mcp', source_name: 'Everything' })
    const ex = await env.t.req('POST', `/api/chat/conversations/${conv}/explain-tools`, { token: alice.token, body: { content: 'Get me the tiny MCP logo image' } })
    expect(ex.body.tools[0]).toMatchObject({ name: 'everything_get_tiny_image', offered: true })
    expect(ex.body.tools[0].matched_terms).toEqual(expect.arrayContaining(['tiny', 'image']))
    expect((await env.t.req('GET', `/api/chat/tools?workspace_id=${alice.ws}`, { token: bob.token })).status).toBe(404)
  })
})

describe('binary tool results', () => {
  test('the model gets a short reference; the bytes are an attachment with type, size and sha256', async () => {
    env.llm.reply({ toolCalls: [{ id: 'img1', name: 'everything_get_tiny_image', arguments: {} }] }, { text: 'Here is your image.' })
    const n = env.llm.requests.length
    const r = await send(env.t, alice, conv, { content: 'Get me the tiny MCP logo image' })
    expect(r.status).toBe(200)
    expect(env.llm.requests[n].body.tools.map((x: any) => x.function.name)).toContain('everything_get_tiny_image')
    const seen = env.llm.requests[n + 1].body.messages.find((m: any) => m.role === 'tool').content as string
    expect(seen).toContain('saved as attachment att_')
    expect(seen).not.toContain(MCP_TINY_IMAGE.slice(0, 100))
    const h = await history(env.t, alice, conv)
    toolMessage = h.find((m) => m.role === 'tool')
    const bytes = Buffer.from(MCP_TINY_IMAGE, 'base64')
    expect(toolMessage.files).toHaveLength(1)
    expect(toolMessage.files[0]).toMatchObject({
      filename: 'everything_get_tiny_image-1.png', content_type: 'image/png', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'),
    })
    const info = await env.t.req('GET', `/api/chat/conversations/${conv}/messages/${toolMessage.id}/files`, { token: alice.token })
    expect(info.status).toBe(200)
    expect(info.body.files).toEqual(toolMessage.files)
  })

  test('download: the exact bytes, Content-Disposition attachment, nosniff', async () => {
    const f = toolMessage.files[0]
    const res = await env.t.app.handle(new Request(`http://localhost${f.url}`, { headers: { authorization: `Bearer ${alice.token}` } }))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-disposition')).toStartWith('attachment; filename="everything_get_tiny_image-1.png"')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('content-type')).toBe('image/png')
    const body = Buffer.from(await res.arrayBuffer())
    expect(body.equals(Buffer.from(MCP_TINY_IMAGE, 'base64'))).toBe(true)
  })

  test("another user's message, file list and file answer 404; so do unknown names", async () => {
    const f = toolMessage.files[0]
    for (const path of [f.url, `/api/chat/conversations/${conv}/messages/${toolMessage.id}/files`]) {
      const r = await env.t.req('GET', path, { token: bob.token })
      expect(r.status).toBe(404)
      expect(r.body.error).toMatch(/not found/)
    }
    expect((await env.t.req('GET', `/api/chat/conversations/${conv}/messages/${toolMessage.id}/files/nope.png`, { token: alice.token })).status).toBe(404)
    const bobConv = await conversation(env.t, bob)
    // A real message id under another conversation is not found either.
    expect((await env.t.req('GET', `/api/chat/conversations/${bobConv}/messages/${toolMessage.id}/files`, { token: bob.token })).status).toBe(404)
  })

  test('deleting the conversation deletes its files', async () => {
    expect((await env.t.req('DELETE', `/api/chat/conversations/${conv}`, { token: alice.token })).status).toBe(200)
    expect(env.t.k.db.query('SELECT count(*) AS n FROM chat_attachments').get()).toEqual({ n: 0 })
  })
})
