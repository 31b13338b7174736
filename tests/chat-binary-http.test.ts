import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { chatEnv, conversation, history, send, sendStream, userWithWorkspace, type Who } from './chat-kit'
import type { EpEnv } from './endpoints-kit'

/**
 * HTTP tool results whose type is not text (issue 12 item 5): the bytes become a file of the tool message, the
 * model, the audit log and the run events see a short reference; text and JSON bodies stay text.
 */

const MAX = 10 * 1024 * 1024
// Deterministic bytes that are not valid UTF-8, behind real signatures.
const noise = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + (i >> 3)) & 0xff)
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), noise(3000, 1)])
const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n'), noise(5000, 2), Buffer.from('\n%%EOF\n')])
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const b64head = (b: Buffer) => b.toString('base64').slice(20, 120)

let server: ReturnType<typeof Bun.serve>
let base = ''
let env: EpEnv
let alice: Who
let bob: Who

beforeAll(async () => {
  server = Bun.serve({
    hostname: '127.0.0.1', port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname
      if (path === '/images/logo.png') return new Response(PNG, { headers: { 'content-type': 'image/png' } })
      if (path === '/download') return new Response(PDF, { headers: { 'content-type': 'application/pdf', 'content-disposition': 'attachment; filename="Quarterly Report.pdf"' } })
      if (path === '/huge.bin') return new Response(new Uint8Array(MAX + 1), { headers: { 'content-type': 'application/octet-stream' } })
      if (path === '/huge-stream') {
        // No Content-Length: the cap is found while reading.
        let sent = 0
        const body = new ReadableStream({
          pull(c) {
            if (sent > MAX) return c.close()
            c.enqueue(new Uint8Array(1024 * 1024))
            sent += 1024 * 1024
          },
        })
        return new Response(body, { headers: { 'content-type': 'audio/mpeg' } })
      }
      if (path === '/data.json') return Response.json({ items: [1, 2, 3], name: 'plain json' })
      if (path === '/problem') return new Response('{"type":"about:blank","title":"Nope"}', { status: 404, headers: { 'content-type': 'application/problem+json' } })
      return new Response('hello from the fake server', { headers: { 'content-type': 'text/plain; charset=utf-8' } })
    },
  })
  base = `http://127.0.0.1:${server.port}`
  env = await chatEnv()
  alice = await userWithWorkspace(env.t)
  bob = await userWithWorkspace(env.t)
})
afterAll(() => { env.close(); server.stop(true) })

const fetchCall = (id: string, url: string) => ({ id, name: 'http_request', arguments: { url } })
const toolOf = (h: any[], callId: string) => h.find((m) => m.role === 'tool' && m.tool_call_id === callId)

describe('binary HTTP bodies in a chat turn', () => {
  let conv = ''
  let h: any[] = []

  test('a PNG and a PDF become files of their tool messages; the model gets references, not bytes', async () => {
    conv = await conversation(env.t, alice)
    env.llm.reply({ toolCalls: [fetchCall('png', `${base}/images/logo.png`), fetchCall('pdf', `${base}/download`)] }, { text: 'I fetched both files.' })
    const n = env.llm.requests.length
    const r = await send(env.t, alice, conv, { content: `Please fetch the logo at ${base}/images/logo.png and the report at ${base}/download` })
    expect(r.status).toBe(200)
    expect(r.body.content).toBe('I fetched both files.')
    expect(r.body.tools_called.map((c: any) => c.success)).toEqual([true, true])
    const next = env.llm.requests[n + 1].body
    const seen = next.messages.filter((m: any) => m.role === 'tool').map((m: any) => m.content as string)
    expect(seen).toHaveLength(2)
    expect(seen[0]).toContain(`HTTP 200 (image/png): binary body, ${PNG.length} bytes, file "logo.png"`)
    expect(seen[0]).toMatch(/saved as attachment att_/)
    expect(seen[1]).toContain(`HTTP 200 (application/pdf): binary body, ${PDF.length} bytes, file "Quarterly Report.pdf"`)
    const wire = JSON.stringify(next)
    for (const b of [PNG, PDF]) {
      expect(wire).not.toContain(b64head(b))
      expect(wire).not.toContain(JSON.stringify(b.subarray(9, 60).toString('latin1')).slice(1, -1))
    }
    h = await history(env.t, alice, conv)
    const png = toolOf(h, 'png')
    const pdf = toolOf(h, 'pdf')
    expect(png.files).toEqual([expect.objectContaining({ filename: 'logo.png', content_type: 'image/png', size: PNG.length, sha256: sha(PNG) })])
    expect(pdf.files).toEqual([expect.objectContaining({ filename: 'Quarterly_Report.pdf', content_type: 'application/pdf', size: PDF.length, sha256: sha(PDF) })])
    expect(png.content).not.toContain(b64head(PNG))
    const info = await env.t.req('GET', `/api/chat/conversations/${conv}/messages/${pdf.id}/files`, { token: alice.token })
    expect(info.body.files).toEqual(pdf.files)
  })

  test('downloads: exact bytes, Content-Disposition attachment, nosniff, sha256; another user gets 404', async () => {
    for (const [callId, bytes, type] of [['png', PNG, 'image/png'], ['pdf', PDF, 'application/pdf']] as const) {
      const f = toolOf(h, callId).files[0]
      const res = await env.t.app.handle(new Request(`http://localhost${f.url}`, { headers: { authorization: `Bearer ${alice.token}` } }))
      expect(res.status).toBe(200)
      expect(res.headers.get('content-disposition')).toStartWith(`attachment; filename="${f.filename}"`)
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('content-type')).toBe(type)
      const body = Buffer.from(await res.arrayBuffer())
      expect(body.equals(bytes)).toBe(true)
      expect(sha(body)).toBe(f.sha256)
      expect((await env.t.req('GET', f.url, { token: bob.token })).status).toBe(404)
    }
  })

  test('the audit log and the streamed run events carry the reference and metadata, never the bytes', async () => {
    env.llm.reply({ toolCalls: [fetchCall('png2', `${base}/images/logo.png`)] }, { text: 'Again.' })
    const s = await sendStream(env.t, alice, conv, { content: `Fetch ${base}/images/logo.png once more` })
    expect(s.res.status).toBe(200)
    const done = s.data.find((d) => d.type === 'tool.completed' && d.call_id === 'png2')
    expect(done.result).toContain('binary body')
    expect(done.result).not.toContain(b64head(PNG))
    const calls = (await env.t.req('GET', '/api/mcp/calls?tool=http_request&limit=10', { token: alice.token })).body.calls
    expect(calls.length).toBeGreaterThanOrEqual(3)
    const text = JSON.stringify(calls)
    expect(text).not.toContain(b64head(PNG))
    expect(text).not.toContain(b64head(PDF))
    // The audit keeps the result as (redacted) JSON text: the metadata, with the body null.
    const pngCall = calls.map((c: any) => (typeof c.result === 'string' ? JSON.parse(c.result) : c.result)).find((x: any) => x?.file?.name === 'logo.png')
    expect(pngCall).toMatchObject({ status: 200, content_type: 'image/png', body: null, file: { size: PNG.length, sha256: sha(PNG) } })
  })

  test('an oversize binary is refused cleanly, with or without Content-Length; no file, no bytes', async () => {
    env.llm.reply({ toolCalls: [fetchCall('big', `${base}/huge.bin`), fetchCall('bigstream', `${base}/huge-stream`)] }, { text: 'Too big.' })
    const n = env.llm.requests.length
    const r = await send(env.t, alice, conv, { content: `Download ${base}/huge.bin and ${base}/huge-stream` })
    expect(r.status).toBe(200)
    expect(r.body.tools_called.map((c: any) => c.success)).toEqual([false, false])
    const after = await history(env.t, alice, conv)
    const big = toolOf(after, 'big')
    const stream = toolOf(after, 'bigstream')
    expect(big).toMatchObject({ is_error: true, files: [] })
    expect(big.content).toBe(`HTTP 200 (application/octet-stream): the binary body (${MAX + 1} bytes) is larger than the ${MAX}-byte limit for files and was not kept`)
    expect(stream).toMatchObject({ is_error: true, files: [] })
    expect(stream.content).toBe(`HTTP 200 (audio/mpeg): the binary body is larger than the ${MAX}-byte limit for files and was not kept`)
    expect(JSON.stringify(env.llm.requests[n + 1].body).length).toBeLessThan(100_000)
  })

  test('text, JSON and +json bodies still come back as text', async () => {
    env.llm.reply({ toolCalls: [fetchCall('json', `${base}/data.json`), fetchCall('txt', `${base}/hello`), fetchCall('problem', `${base}/problem`)] }, { text: 'Read them.' })
    const n = env.llm.requests.length
    const r = await send(env.t, alice, conv, { content: `Read ${base}/data.json, ${base}/hello and ${base}/problem` })
    expect(r.status).toBe(200)
    const after = await history(env.t, alice, conv)
    expect(toolOf(after, 'json')).toMatchObject({ files: [] })
    expect(toolOf(after, 'json').content).toContain('{"items":[1,2,3],"name":"plain json"}')
    expect(toolOf(after, 'txt').content).toBe('HTTP 200 (text/plain; charset=utf-8)\nhello from the fake server')
    expect(toolOf(after, 'problem').content).toContain('"title":"Nope"')
    const seen = env.llm.requests[n + 1].body.messages.filter((m: any) => m.role === 'tool').slice(-3).map((m: any) => m.content).join('\n')
    expect(seen).toContain('plain json')
    expect(seen).not.toContain('attachment')
  })
})

describe('surfaces that keep no files', () => {
  test('the tools API (and the HTTP API connection tool) answer the reference and metadata, not the bytes', async () => {
    const direct = await env.t.req('POST', '/api/mcp/call', { token: alice.token, body: { name: 'http_request', arguments: { url: `${base}/download` } } })
    expect(direct.status).toBe(200)
    expect(direct.body.result.content).toContain(`binary body, ${PDF.length} bytes, file "Quarterly Report.pdf"`)
    expect(direct.body.result.data.file).toEqual({ name: 'Quarterly Report.pdf', content_type: 'application/pdf', size: PDF.length, sha256: sha(PDF) })
    expect(direct.text).not.toContain(b64head(PDF))

    const head = await env.t.req('POST', '/api/mcp/call', { token: alice.token, body: { name: 'http_request', arguments: { method: 'HEAD', url: `${base}/huge.bin` } } })
    expect(head.body).toMatchObject({ success: true, result: { content: 'HTTP 200 (application/octet-stream)\n' } })

    const c = await env.t.req('POST', '/api/connections', { token: alice.token, body: { platform: 'http', name: 'Files API', config: { base_url: base } } })
    expect(c.status).toBe(201)
    const viaConnection = await env.t.req('POST', '/api/mcp/call', { token: alice.token, body: { name: 'files_api_request', arguments: { path: '/images/logo.png' } } })
    expect(viaConnection.body.success).toBe(true)
    expect(viaConnection.body.result.content).toContain(`HTTP 200 (image/png): binary body, ${PNG.length} bytes, file "logo.png"`)
    expect(viaConnection.body.result.data.file.sha256).toBe(sha(PNG))
    expect(viaConnection.text).not.toContain(b64head(PNG))
    const json = await env.t.req('POST', '/api/mcp/call', { token: alice.token, body: { name: 'files_api_request', arguments: { path: '/data.json' } } })
    expect(json.body.result.data).toEqual({ status: 200, body: { items: [1, 2, 3], name: 'plain json' } })
  })
})
