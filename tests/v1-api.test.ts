/** The /v1 reference (v1-api.txt): agents, messages -> tasks, skills, webhooks, statuses and rate-limit headers. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createEndpoint, epEnv, parseSse, until, userWithWorkspace, type EpEnv, type Ep, type Who } from './endpoints-kit'
import { startReceiver, type Receiver } from './fixtures/webhook-receiver'
import { deliveries } from '../src/events/delivery'
import { EVENT_CATALOG, type EventSpec } from '../src/events/catalog'
import { validate } from '../src/agent/schema'

let env: EpEnv
let alice: Who
let bob: Who
let ep: Ep
let pat: string
let botId: string
let rx: Receiver
const published: Array<{ type: string; data: unknown }> = []

const req = (method: string, path: string, o: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) =>
  env.t.req(method, path, { token: pat, ...o })

async function finished(taskId: string) {
  let task: any
  await until(async () => {
    task = (await req('GET', `/v1/tasks/${taskId}`)).body
    return ['completed', 'failed', 'canceled'].includes(task.state)
  }, 10_000, `task ${taskId} to finish`)
  return task
}

beforeAll(async () => {
  env = await epEnv()
  env.t.k.events.subscribe((e) => published.push({ type: e.type, data: e.data }))
  rx = startReceiver()
  alice = await userWithWorkspace(env.t)
  bob = await userWithWorkspace(env.t)
  ep = await createEndpoint(env.t, alice, { name: 'Booking agent', system_prompt: 'You book tables.' })
  const bot = await env.t.req('POST', '/api/bots', { token: alice.token, body: { name: 'Support', platform: 'custom', workspace_id: alice.ws, system_prompt: 'You support.', llm_provider: 'openai', llm_model: 'gpt-4o-mini' } })
  if (bot.status !== 201) throw new Error(bot.text)
  botId = bot.body.bot.id
  pat = (await env.t.req('POST', '/api/tokens', { token: alice.token, body: { name: 'v1' } })).body.key
})
afterAll(() => { rx.close(); env.close() })

describe('agents', () => {
  test('GET /v1/agents lists bots and endpoints with the reference fields', async () => {
    await createEndpoint(env.t, bob, { name: 'Not yours' })
    const r = await req('GET', '/v1/agents')
    expect(r.status).toBe(200)
    expect(r.headers.get('x-ratelimit-limit')).toBe('100') // personal token: 100 req/min
    const byId = Object.fromEntries(r.body.data.map((a: any) => [a.id, a]))
    expect(Object.keys(byId).sort()).toEqual([botId, ep.id].sort())
    expect(byId[ep.id]).toMatchObject({ type: 'endpoint', name: 'Booking agent', status: 'online', skills: ['*'], channels: ['api', 'openai', 'mcp'], model: 'gpt-4o-mini' })
    expect(byId[botId]).toMatchObject({ type: 'bot', status: 'offline', model: 'gpt-4o-mini' })
    expect(byId[ep.id].created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  })

  test('GET /v1/agents/{id}: one agent; another user\'s is 404; no token 401', async () => {
    expect((await req('GET', `/v1/agents/${ep.id}`)).body.id).toBe(ep.id)
    const bobs = await createEndpoint(env.t, bob, { name: 'Bob2' })
    expect((await req('GET', `/v1/agents/${bobs.id}`)).status).toBe(404)
    expect((await req('GET', '/v1/agents/aep_missing')).status).toBe(404)
    expect((await env.t.req('GET', '/v1/agents')).status).toBe(401)
    expect((await req('GET', '/v1/agents', { token: 'ab_pat_wrong' })).status).toBe(401)
  })
})

describe('messages and tasks', () => {
  test('POST message: 201 delivered at once, the task runs to completed with the agent\'s answer', async () => {
    env.llm.reply({ text: 'Booked for 4 at 19:00.', usage: { input: 30, output: 8 } })
    const r = await req('POST', `/v1/agents/${ep.id}/message`, { body: { content: 'Book a table for 4 at 7pm tomorrow', channel: 'api', metadata: { customer_id: 'cust_456', priority: 'normal' } } })
    expect(r.status).toBe(201)
    expect(r.body).toEqual({ id: expect.stringMatching(/^msg_/), status: 'delivered', agent_id: ep.id, task_id: expect.stringMatching(/^task_/), created_at: expect.any(String) })
    const task = await finished(r.body.task_id)
    expect(task).toMatchObject({
      id: r.body.task_id, agent_id: ep.id, message_id: r.body.id, state: 'completed', output: 'Booked for 4 at 19:00.', channel: 'api',
      metadata: { customer_id: 'cust_456', priority: 'normal' }, error: null, usage: { tokens_input: 30, tokens_output: 8 },
    })
    expect(task.run_id).toMatch(/^run_/)
    expect(env.llm.requests.at(-1)!.body.messages.at(-1).content).toBe('Book a table for 4 at 7pm tomorrow')
  })

  test('?wait=true answers with the finished task; a failing run ends failed', async () => {
    env.llm.reply({ text: 'Done.' })
    const r = await req('POST', `/v1/agents/${ep.id}/message?wait=true`, { body: { content: 'hi' } })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ state: 'completed', output: 'Done.', status: { state: 'completed' } })
    env.llm.reply({ status: 400, error: 'bad' })
    const f = await req('POST', `/v1/agents/${ep.id}/message?wait=true`, { body: { content: 'hi' } })
    expect(f.body.state).toBe('failed')
    expect(f.body.error.message).toEqual(expect.any(String))
  })

  test('Accept: text/event-stream streams the run (run.started carries the task id) and the task completes', async () => {
    env.llm.reply({ chunks: ['On ', 'it'] })
    const r = await req('POST', `/v1/agents/${ep.id}/message`, { body: { content: 'stream please' }, headers: { accept: 'text/event-stream' } })
    expect(r.headers.get('content-type')).toContain('text/event-stream')
    const events = parseSse(r.text).map((e) => ({ event: e.event, data: JSON.parse(e.data) }))
    expect(events[0].event).toBe('run.started')
    expect(events[0].data.task_id).toMatch(/^task_/)
    expect(events.filter((e) => e.event === 'text.delta').map((e) => e.data.text).join('')).toBe('On it')
    expect(events.at(-1)!.event).toBe('run.completed')
    expect((await finished(events[0].data.task_id)).state).toBe('completed')
  })

  test('a bot answers a message through its engine (its conversation), when online', async () => {
    const off = await req('POST', `/v1/agents/${botId}/message?wait=true`, { body: { content: 'hello' } })
    expect(off.body.state).toBe('failed') // offline (draft)
    expect((await env.t.req('POST', `/api/bots/${botId}/activate`, { token: alice.token })).status).toBe(200)
    env.llm.reply({ text: 'Hi from the bot' })
    const on = await req('POST', `/v1/agents/${botId}/message?wait=true`, { body: { content: 'hello' } })
    expect(on.body).toMatchObject({ state: 'completed', output: 'Hi from the bot' })
    expect((await req('GET', `/v1/agents/${botId}`)).body.status).toBe('online')
  })

  test('GET /v1/agents/{id}/tasks: newest first, cursor pagination, state filter', async () => {
    const fresh = await createEndpoint(env.t, alice, { name: 'Pager' })
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      env.llm.reply({ text: `a${i}` })
      ids.push((await req('POST', `/v1/agents/${fresh.id}/message?wait=true`, { body: { content: `m${i}` } })).body.id)
    }
    const p1 = await req('GET', `/v1/agents/${fresh.id}/tasks?limit=2`)
    expect(p1.body.data.map((x: any) => x.id)).toEqual([ids[2], ids[1]])
    expect(p1.body.has_more).toBe(true)
    const p2 = await req('GET', `/v1/agents/${fresh.id}/tasks?limit=2&cursor=${p1.body.next_cursor}`)
    expect(p2.body.data.map((x: any) => x.id)).toEqual([ids[0]])
    expect(p2.body).toMatchObject({ has_more: false, next_cursor: null })
    expect((await req('GET', `/v1/agents/${fresh.id}/tasks?state=failed`)).body.data).toEqual([])
    expect((await req('GET', `/v1/agents/${fresh.id}/tasks?state=bogus`)).status).toBe(400)
  })

  test('bad payloads are 400; another user\'s task is 404', async () => {
    expect((await req('POST', `/v1/agents/${ep.id}/message`, { body: { channel: 'api' } })).status).toBe(400)
    expect((await req('POST', `/v1/agents/${ep.id}/message`, { body: { content: '   ' } })).status).toBe(400)
    const bobPat = (await env.t.req('POST', '/api/tokens', { token: bob.token, body: { name: 'b' } })).body.key
    const mine = (await req('GET', `/v1/agents/${ep.id}/tasks`)).body.data[0].id
    expect((await req('GET', `/v1/tasks/${mine}`, { token: bobPat })).status).toBe(404)
  })
})

describe('scheduled agents (agt_)', () => {
  test('listed with type scheduled; a message runs the deployed workflow as a task', async () => {
    const wf = await env.t.req('POST', '/api/workflows/from-steps', { token: alice.token, body: {
      name: 'Echo flow', status: 'active', workspace_id: alice.ws, steps: [{ id: 'echo', type: 'transform', template: 'Got: {{ input.content }}' }],
    } })
    expect(wf.status).toBe(201)
    const dep = await env.t.req('POST', '/api/agents', { token: alice.token, body: { workflow_id: wf.body.id } })
    expect(dep.status).toBe(201)
    const id = dep.body.agent_id
    const a = await req('GET', `/v1/agents/${id}`)
    expect(a.body).toMatchObject({ id, type: 'scheduled', name: 'Echo flow', status: 'online', channels: ['api', 'schedule'] })
    expect((await req('GET', '/v1/agents')).body.data.some((x: any) => x.id === id)).toBe(true)
    const t = await req('POST', `/v1/agents/${id}/message?wait=true`, { body: { content: 'hello' } })
    expect(t.body).toMatchObject({ state: 'completed', agent_id: id })
    expect(t.body.output).toContain('Got: hello')
    expect((await req('PUT', `/v1/agents/${id}/skills`, { body: { install: ['current_time'] } })).status).toBe(400)
  })
})

describe('skills', () => {
  test('install/remove on the tool allow-list; unknown skills 400 naming them; shown in the bots API', async () => {
    const bad = await req('PUT', `/v1/agents/${botId}/skills`, { body: { install: ['no_such_tool', 'mcp_nope'] } })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toContain('"no_such_tool"')
    expect(bad.body.error).toContain('"mcp_nope"')
    const rm = await req('PUT', `/v1/agents/${botId}/skills`, { body: { remove: ['current_time'] } })
    expect(rm.status).toBe(200)
    expect(rm.body.skills).not.toContain('current_time')
    expect(rm.body.skills).not.toContain('*')
    expect(rm.body.skills.length).toBeGreaterThan(0)
    const bot = await env.t.req('GET', `/api/bots/${botId}`, { token: alice.token })
    expect(bot.body.bot.tools).toEqual(rm.body.skills)
  })

  test('the model asking for a removed tool is refused; installing it back allows it', async () => {
    env.llm.reply({ toolCalls: [{ name: 'current_time', arguments: { timezone: 'UTC' } }] }, { text: 'no time' })
    await req('POST', `/v1/agents/${botId}/message?wait=true`, { body: { content: 'time?' } })
    const second = env.llm.requests.at(-1)!.body
    expect(second.tools?.map((x: any) => x.function.name) ?? []).not.toContain('current_time')
    const toolMsg = second.messages.find((m: any) => m.role === 'tool')
    expect(toolMsg.content).toContain('Unknown tool "current_time"')

    const inst = await req('PUT', `/v1/agents/${botId}/skills`, { body: { install: ['current_time'] } })
    expect(inst.body.skills).toContain('current_time')
    env.llm.reply({ toolCalls: [{ name: 'current_time', arguments: { timezone: 'UTC' } }] }, { text: 'noon' })
    await req('POST', `/v1/agents/${botId}/message?wait=true`, { body: { content: 'time?' } })
    const ok = env.llm.requests.at(-1)!.body.messages.find((m: any) => m.role === 'tool')
    expect(ok.content).not.toContain('Unknown tool')
  })

  test('endpoints: tools editable in their own API; an unknown one is 400', async () => {
    const e = await createEndpoint(env.t, alice, { name: 'Narrow', tools: ['current_time'] })
    expect(e.endpoint.tools).toEqual(['current_time'])
    expect((await req('GET', `/v1/agents/${e.id}`)).body.skills).toEqual(['current_time'])
    const patch = await env.t.req('PATCH', `/api/agent-endpoints/${e.id}`, { token: alice.token, body: { tools: ['nope_tool'] } })
    expect(patch.status).toBe(400)
    expect(patch.body.error).toContain('nope_tool')
    const clear = await env.t.req('PATCH', `/api/agent-endpoints/${e.id}`, { token: alice.token, body: { tools: null } })
    expect(clear.body.endpoint.tools).toBeNull()
  })
})

describe('webhooks', () => {
  test('POST /v1/webhooks: deliveries verified with standardwebhooks for the reference events', async () => {
    const path = '/v1hook'
    const r = await req('POST', '/v1/webhooks', {
      body: { url: rx.url + path, events: ['agent.task.completed', 'agent.message.received', 'agent.message.sent', 'agent.status.changed', 'agent.skill.installed'] },
    })
    expect(r.status).toBe(201)
    expect(r.body.secret).toMatch(/^whsec_/)
    rx.secrets.set(path, r.body.secret)
    env.llm.reply({ text: 'webhooked' })
    const m = await req('POST', `/v1/agents/${ep.id}/message?wait=true`, { body: { content: 'ping' } })
    env.llm.reply({ text: 'direct answer' })
    const direct = await env.t.req('POST', `/api/run/${ep.slug}`, { body: { input: 'direct question' }, headers: { authorization: `Bearer ${ep.key}` } })
    expect(direct.status).toBe(200)
    await req('PUT', `/v1/agents/${ep.id}/skills`, { body: { install: ['current_time'] } })
    await env.t.req('POST', `/api/agent-endpoints/${ep.id}/deactivate`, { token: alice.token })
    await deliveries(env.t.k).runDue()
    await until(async () => { await deliveries(env.t.k).runDue(); return new Set(rx.received.filter((x) => x.path === path && x.json?.data?.agent_id === ep.id).map((x) => x.json.type)).size >= 5 }, 10_000, 'deliveries')
    const got = rx.received.filter((x) => x.path === path)
    expect(got.every((x) => x.verified)).toBe(true)
    // The outbox also delivers earlier undispatched events (other agents' messages): look at this agent's.
    const byType = Object.fromEntries(got.filter((x) => x.json.data.agent_id === ep.id).map((x) => [x.json.type, x.json.data]))
    const of = (type: string, pred: (d: any) => boolean) => got.map((x) => x.json).find((j) => j.type === type && pred(j.data))?.data
    expect(of('agent.message.received', (d) => d.task_id === m.body.id)).toMatchObject({ agent_id: ep.id, content: 'ping', channel: 'api' })
    expect(of('agent.message.sent', (d) => d.task_id === m.body.id)).toMatchObject({ agent_id: ep.id, content: 'webhooked', reply_to: m.body.message_id })
    // An endpoint's own API runs are messages of the agent too (published by the endpoints domain).
    expect(of('agent.message.received', (d) => d.run_id === direct.body.run_id)).toMatchObject({ agent_id: ep.id, channel: 'api', content: 'direct question' })
    expect(of('agent.message.sent', (d) => d.run_id === direct.body.run_id)).toMatchObject({ agent_id: ep.id, content: 'direct answer' })
    // A task's messages are published once, with the task's ids (not again by the run).
    expect(got.filter((x) => x.json.type === 'agent.message.received' && x.json.data.run_id === m.body.run_id).length).toBe(0)
    expect(of('agent.task.completed', (d) => d.task_id === m.body.id)).toMatchObject({ agent_id: ep.id, state: 'completed', output: 'webhooked' })
    expect(byType['agent.skill.installed']).toMatchObject({ agent_id: ep.id, skills: ['current_time'] })
    expect(byType['agent.status.changed']).toMatchObject({ agent_id: ep.id, status: 'offline', previous_status: 'online' })
    await env.t.req('POST', `/api/agent-endpoints/${ep.id}/activate`, { token: alice.token })
  })

  test('unknown events and bad URLs are 400', async () => {
    expect((await req('POST', '/v1/webhooks', { body: { url: rx.url + '/x', events: ['agent.nope'] } })).status).toBe(400)
    expect((await req('POST', '/v1/webhooks', { body: { url: 'ftp://x', events: ['agent.task.completed'] } })).status).toBe(400)
  })
})

describe('statuses and rate limits', () => {
  test('a missing scope is 401 (the reference has no 403); 429 carries Retry-After and X-RateLimit-*', async () => {
    const ro = (await env.t.req('POST', '/api/tokens', { token: alice.token, body: { name: 'ro', scopes: ['bots.read'] } })).body.key
    const denied = await req('POST', `/v1/agents/${botId}/message`, { token: ro, body: { content: 'x' } })
    expect(denied.status).toBe(401)
    expect(denied.body.code).toBe('missing_scope')
    const slow = (await env.t.req('POST', '/api/tokens', { token: alice.token, body: { name: 'slow', rate_limit_rpm: 2 } })).body.key
    await req('GET', '/v1/agents', { token: slow })
    await req('GET', '/v1/agents', { token: slow })
    const limited = await req('GET', '/v1/agents', { token: slow })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('x-ratelimit-limit')).toBe('2')
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(Number(limited.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000 - 1)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
  })
})

test('every event published in these flows matches its catalog schema (agent.* included)', () => {
  const types = new Set(published.map((e) => e.type))
  for (const t of ['agent.task.completed', 'agent.message.received', 'agent.message.sent', 'agent.status.changed', 'agent.skill.installed']) expect(types.has(t)).toBe(true)
  const mine = new Set(['agent.task.completed', 'agent.message.received', 'agent.message.sent', 'agent.status.changed', 'agent.skill.installed'])
  const bad = published.filter((e) => mine.has(e.type)).map((e) => {
    const schema = (EVENT_CATALOG as Record<string, EventSpec>)[e.type]?.schema
    return { type: e.type, problem: schema ? validate(schema as Record<string, unknown>, e.data) : 'no schema' }
  }).filter((x) => x.problem !== null)
  expect(bad).toEqual([])
})
