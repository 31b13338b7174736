import { afterAll, beforeAll, expect, test } from 'bun:test'
import { testApp } from './helpers'
import { startFakeLlm, type FakeLlm } from './fixtures/fake-llm'
import { startFakeToolApis, type FakeToolApis } from './fixtures/fake-tool-apis'
import { startEverything, type RunningServer } from './fixtures/mcp-servers'
import { collect, run } from '../src/agent/run'
import { workspaceToolSet } from '../src/tools/workspace-tools'
import type { RunEvent } from '../src/agent/types'

/** End to end: an agent (runtime + fake LLM) in a workspace calls an MCP tool and a connection tool in one turn. */

let llm: FakeLlm
let apis: FakeToolApis
let mcp: RunningServer
let t: ReturnType<typeof testApp>
let user: { token: string; id: string }
let ws: string

beforeAll(async () => {
  ;[llm, apis, mcp] = await Promise.all([startFakeLlm(), startFakeToolApis(), startEverything('streamableHttp')])
  t = testApp({ env: { ...apis.env, OPENAI_BASE_URL: llm.openaiBase, OPENAI_API_KEY: 'sk-test' } })
  user = await t.user()
  ws = (await t.req('POST', '/api/workspaces', { body: { name: 'Agents' }, token: user.token })).body.workspace.id
  const s = await t.req('POST', `/api/workspaces/${ws}/mcp-servers`, { body: { name: 'Everything', url: mcp.url }, token: user.token })
  expect(s.body.mcp_server.status).toBe('connected')
  const c = await t.req('POST', '/api/connections', { body: { platform: 'slack', name: 'Team', config: { bot_token: 'xoxb-good' } }, token: user.token })
  expect(c.body.connection.status).toBe('active')
})
afterAll(() => { t.close(); llm.close(); apis.close(); mcp.close() })

test('one turn, two tools (MCP + Slack), results fed back, every call audited with the run id', async () => {
  llm.reply(
    { toolCalls: [{ id: 'call_sum', name: 'everything_get_sum', arguments: { a: 20, b: 22 } }, { id: 'call_slack', name: 'slack_send_message', arguments: { channel: 'C01', text: 'The answer is 42' } }] },
    { text: 'Posted the answer (42) to Slack.' },
  )
  const tools = workspaceToolSet(t.k, user.id, ws)
  const events: RunEvent[] = []
  async function* tap() { for await (const e of run(t.k, { systemPrompt: 'You are helpful.', provider: 'openai', model: 'gpt-4o-mini', ownerId: user.id, surface: 'endpoint', tools }, { message: 'Add 20 and 22, then tell the team.' }, { runId: 'run_e2etest' })) { events.push(e); yield e } }
  const out = await collect(tap())
  expect(out.ok).toBe(true)
  expect(out.result.text).toBe('Posted the answer (42) to Slack.')
  expect(out.result.tool_calls.map((c) => [c.tool, c.success])).toEqual([['everything_get_sum', true], ['slack_send_message', true]])

  // The model was offered built-ins, the connection's tools and the server's tools.
  const offered = llm.requests[0].body.tools.map((x: any) => x.function.name)
  expect(offered).toEqual(expect.arrayContaining(['http_request', 'current_time', 'slack_send_message', 'slack_list_channels', 'everything_get_sum', 'everything_echo']))
  // The second model call got both results.
  const toolMsgs = llm.requests[1].body.messages.filter((m: any) => m.role === 'tool')
  expect(toolMsgs.map((m: any) => m.tool_call_id).sort()).toEqual(['call_slack', 'call_sum'])
  expect(toolMsgs.find((m: any) => m.tool_call_id === 'call_sum').content).toContain('42')
  expect(toolMsgs.find((m: any) => m.tool_call_id === 'call_slack').content).toContain('Message sent to C01')
  // Slack received exactly what the model asked for.
  expect(apis.of('slack', 'chat.postMessage').at(-1)!.body).toEqual({ channel: 'C01', text: 'The answer is 42' })
  expect(events.filter((e) => e.type === 'tool.completed').length).toBe(2)

  const audit = (await t.req('GET', '/api/mcp/calls', { token: user.token })).body.calls
  expect(audit.map((c: any) => [c.tool, c.surface, c.run_id, c.success]).sort()).toEqual([
    ['everything_get_sum', 'endpoint', 'run_e2etest', true],
    ['slack_send_message', 'endpoint', 'run_e2etest', true],
  ])
})

test("a workspace's tool set never includes another owner's servers", async () => {
  const other = await t.user()
  const names = (await workspaceToolSet(t.k, other.id, ws).list()).map((d) => d.name)
  expect(names).toEqual(['http_request', 'current_time'])
})
