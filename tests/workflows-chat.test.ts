/** Workflows and chat: extraction from a conversation's recorded tool calls, the preview, and chat-agent (a workflow offered as a tool). */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { chatEnv, conversation, send, userWithWorkspace, type Who } from './chat-kit'
import type { EpEnv } from './endpoints-kit'

let env: EpEnv
let u: Who
let conv: string
beforeAll(async () => {
  env = await chatEnv()
  u = await userWithWorkspace(env.t)
  conv = await conversation(env.t, u)
  env.llm.reply(
    { toolCalls: [{ id: 'c1', name: 'current_time', arguments: { timezone: 'Asia/Tokyo' } }] },
    { toolCalls: [{ id: 'c2', name: 'current_time', arguments: { timezone: 'Nowhere/City' } }] },
    { toolCalls: [{ id: 'c3', name: 'current_time', arguments: { timezone: 'Europe/Berlin' } }] },
    { text: 'Tokyo and Berlin times.' },
  )
  const r = await send(env.t, u, conv, { content: 'What time is it in Tokyo and Berlin?' })
  expect(r.status).toBe(200)
})
afterAll(() => env.close())

test('tool-calls preview lists the recorded calls as steps, in order', async () => {
  const r = await env.t.req('GET', `/api/workflows/conversations/${conv}/tool-calls`, { token: u.token })
  expect(r.status).toBe(200)
  expect(r.body.map((c: any) => [c.step_id, c.name, c.arguments.timezone, c.is_error])).toEqual([
    ['step_1', 'current_time', 'Asia/Tokyo', false], ['step_2', 'current_time', 'Nowhere/City', true], ['step_3', 'current_time', 'Europe/Berlin', false],
  ])
  const other = await userWithWorkspace(env.t)
  expect((await env.t.req('GET', `/api/workflows/conversations/${conv}/tool-calls`, { token: other.token })).status).toBe(404)
})

test('extract: successful calls become steps; chosen fields become input placeholders; the workflow runs', async () => {
  const r = await env.t.req('POST', '/api/workflows/extract-from-conversation', {
    token: u.token, body: { conversation_id: conv, workflow_name: 'Clock', parameterize_fields: ['step_1.timezone'] },
  })
  expect(r.status).toBe(201)
  expect(r.body.steps).toEqual([
    { id: 'step_1', name: 'current_time', type: 'tool', tool: 'current_time', parameters: { timezone: '{{ input.timezone }}' } },
    { id: 'step_3', name: 'current_time', type: 'tool', tool: 'current_time', parameters: { timezone: 'Europe/Berlin' } },
  ])
  expect(r.body.workflow_metadata).toMatchObject({ conversation_id: conv, input_example: { timezone: 'Asia/Tokyo' } })
  expect(env.llm.requests.length).toBe(4) // deterministic: no model call
  const ex = await env.t.req('POST', `/api/workflows/${r.body.id}/execute`, { token: u.token, body: { input_data: { timezone: 'America/New_York' } } })
  expect(ex.body.status).toBe('success')
  expect(ex.body.step_results.step_1.timezone).toBe('America/New_York')
  const chosen = await env.t.req('POST', '/api/workflows/extract-from-conversation', { token: u.token, body: { conversation_id: conv, workflow_name: 'One', selected_step_ids: ['c3'], parameterize_fields: ['timezone'] } })
  expect(chosen.body.steps.map((s: any) => [s.id, s.parameters.timezone])).toEqual([['step_3', '{{ input.timezone }}']])
  const bad = await env.t.req('POST', '/api/workflows/extract-from-conversation', { token: u.token, body: { conversation_id: conv, workflow_name: 'x', parameterize_fields: ['nope'] } })
  expect(bad.status).toBe(400)
  expect(bad.body.details.parameterize_fields).toMatch(/unknown field "nope"/)
  const unknown = await env.t.req('POST', '/api/workflows/extract-from-conversation', { token: u.token, body: { conversation_id: conv, workflow_name: 'x', selected_step_ids: ['step_9'] } })
  expect(unknown.status).toBe(400)
})

test('chat-agent: a generated workflow offered as a tool in a new conversation, callable from a chat turn', async () => {
  env.llm.reset()
  env.llm.reply({ text: JSON.stringify({ name: 'Tokyo clock', steps: [{ id: 'now', type: 'tool', tool: 'current_time', parameters: { timezone: '{{ input.zone | default: "Asia/Tokyo" }}' } }] }) })
  const r = await env.t.req('POST', '/api/workflows/chat-agent', { token: u.token, body: { description: 'Tell me the time in a zone' } })
  expect(r.status).toBe(201)
  expect(r.body.workflow).toMatchObject({ name: 'Tokyo clock', status: 'active', workflow_metadata: { expose_as_tool: true } })
  expect(r.body.tool_name).toBe('workflow_tokyo_clock')
  expect(r.body.conversation.id).toMatch(/^conv_/)
  const tools = await env.t.req('GET', '/api/mcp/tools', { token: u.token })
  expect(JSON.stringify(tools.body)).toContain('workflow_tokyo_clock')
  env.llm.reply({ toolCalls: [{ id: 'w1', name: 'workflow_tokyo_clock', arguments: { zone: 'UTC' } }] }, { text: 'It is now.' })
  const turn = await send(env.t, u, r.body.conversation.id, { content: 'What time is it in UTC?' })
  expect(turn.status).toBe(200)
  const execs = (await env.t.req('GET', `/api/workflows/${r.body.workflow.id}/executions`, { token: u.token })).body
  expect(execs.map((e: any) => [e.status, e.source, e.input_data.zone])).toEqual([['success', 'chat', 'UTC']])
  expect(execs[0].output_data.timezone).toBe('UTC')
})
