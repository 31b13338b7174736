/** The MCP Inspector CLI (@modelcontextprotocol/inspector --cli, devDependency) against /mcp over real HTTP. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { createEndpoint, epEnv, userWithWorkspace, type EpEnv, type Ep } from './endpoints-kit'

let env: EpEnv
let ep: Ep
let pat: string
let server: ReturnType<typeof Bun.serve>

beforeAll(async () => {
  env = await epEnv()
  const alice = await userWithWorkspace(env.t)
  ep = await createEndpoint(env.t, alice, { name: 'Echo agent', description: 'Repeats things' })
  pat = (await env.t.req('POST', '/api/tokens', { token: alice.token, body: { name: 'inspector', scopes: ['endpoints.run'] } })).body.key
  server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (r) => env.t.app.handle(r) })
})
afterAll(() => { server.stop(true); env.close() })

async function inspector(...args: string[]) {
  const bin = join(import.meta.dir, '..', 'node_modules', '.bin', 'mcp-inspector')
  const proc = Bun.spawn(['node', bin, '--cli', `http://127.0.0.1:${server.port}/mcp`, '--transport', 'http', '--header', `Authorization: Bearer ${pat}`, ...args], {
    stdout: 'pipe', stderr: 'pipe', env: { ...process.env, MCP_CATALOG_PATH: join(env.t.dir, 'mcp-catalog.json') },
  })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`inspector exited ${code}: ${err || out}`)
  return JSON.parse(out)
}

test('tools/list shows the agent as a tool with its JSON Schema', async () => {
  const r = await inspector('--method', 'tools/list')
  const tool = r.tools.find((t: any) => t.name === ep.slug)
  expect(tool.description).toBe('Repeats things')
  expect(tool.inputSchema.required).toEqual(['input'])
}, 60_000)

test('tools/call runs the agent', async () => {
  env.llm.reply({ text: 'inspected!' })
  const r = await inspector('--method', 'tools/call', '--tool-name', ep.slug, '--tool-arg', 'input=hello')
  expect(r.isError).toBe(false)
  expect(r.content[0].text).toBe('inspected!')
}, 60_000)
