/** The OpenAI-compatible routes, driven by the official `openai` npm client (in-process fetch into the app). */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { createEndpoint, count, epEnv, userWithWorkspace, type EpEnv, type Ep, type Who } from './endpoints-kit'

let env: EpEnv
let alice: Who
let bob: Who
let ep: Ep
let pat: string

const client = (apiKey: string, opts: Record<string, unknown> = {}) => new OpenAI({
  apiKey, baseURL: 'http://localhost/v1', maxRetries: 0,
  fetch: ((url: string, init: RequestInit) => env.t.app.handle(new Request(url, init))) as any,
  ...opts,
})

beforeAll(async () => {
  env = await epEnv()
  alice = await userWithWorkspace(env.t)
  bob = await userWithWorkspace(env.t)
  ep = await createEndpoint(env.t, alice, { name: 'Support Bot', system_prompt: 'You help customers.' })
  pat = (await env.t.req('POST', '/api/tokens', { token: alice.token, body: { name: 'oai', scopes: ['endpoints.run'] } })).body.key
})
afterAll(() => env.close())

describe('GET /v1/models', () => {
  test('lists the active agents a token may use, by slug', async () => {
    await createEndpoint(env.t, alice, { name: 'Paused one' }, false)
    await createEndpoint(env.t, bob, { name: 'Bobs agent' })
    const models = await client(pat).models.list()
    const ids = models.data.map((m) => m.id)
    expect(ids).toEqual([ep.slug])
    expect(models.data[0].object).toBe('model')
  })

  test('an endpoint key sees only its own agent', async () => {
    const models = await client(ep.key).models.list()
    expect(models.data.map((m) => m.id)).toEqual([ep.slug])
  })

  test('a wrong key is an AuthenticationError in OpenAI shape', async () => {
    const err = await client('aek_nope').models.list().catch((e) => e)
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(err.status).toBe(401)
    expect(err.code).toBe('invalid_api_key')
  })
})

describe('POST /v1/chat/completions', () => {
  test('non-stream: the agent runs with its own prompt on the given messages; OpenAI shape and usage', async () => {
    env.llm.reply({ text: 'Hello Ada!', usage: { input: 21, output: 4 } })
    const before = count(env.t, 'runs', "source = 'openai' AND source_id = ?", ep.id)
    const r = await client(pat).chat.completions.create({
      model: ep.slug,
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi, I am Ada' }, { role: 'assistant', content: 'Hi!' }, { role: 'user', content: 'Greet me' }],
    })
    expect(r.object).toBe('chat.completion')
    expect(r.id).toMatch(/^chatcmpl-/)
    expect(r.model).toBe(ep.slug)
    expect(r.choices[0].message.role).toBe('assistant')
    expect(r.choices[0].message.content).toBe('Hello Ada!')
    expect(r.choices[0].finish_reason).toBe('stop')
    expect(r.usage).toEqual({ prompt_tokens: 21, completion_tokens: 4, total_tokens: 25 })
    const sent = env.llm.requests.at(-1)!.body
    expect(sent.messages[0].content).toContain('You help customers.')
    expect(sent.messages[0].content).toContain('Be brief.')
    expect(sent.messages.slice(1).map((m: any) => [m.role, m.content])).toEqual([['user', 'Hi, I am Ada'], ['assistant', 'Hi!'], ['user', 'Greet me']])
    expect(count(env.t, 'runs', "source = 'openai' AND source_id = ?", ep.id)).toBe(before + 1)
  })

  test('model may be the endpoint id; the endpoint key works', async () => {
    env.llm.reply({ text: 'by id' })
    const r = await client(ep.key).chat.completions.create({ model: ep.id, messages: [{ role: 'user', content: 'x' }] })
    expect(r.choices[0].message.content).toBe('by id')
  })

  test('stream: role chunk, content deltas, finish chunk, [DONE]; usage chunk with include_usage', async () => {
    env.llm.reply({ chunks: ['Hel', 'lo ', 'there'], usage: { input: 10, output: 3 } })
    const stream = await client(pat).chat.completions.create({
      model: ep.slug, messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true },
    })
    const chunks: any[] = []
    for await (const c of stream) chunks.push(c)
    expect(chunks[0].choices[0].delta.role).toBe('assistant')
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id)).toBe(true)
    const text = chunks.flatMap((c) => c.choices.map((ch: any) => ch.delta.content ?? '')).join('')
    expect(text).toBe('Hello there')
    const finish = chunks.find((c) => c.choices[0]?.finish_reason)
    expect(finish.choices[0].finish_reason).toBe('stop')
    const last = chunks.at(-1)
    expect(last.choices).toEqual([])
    expect(last.usage).toEqual({ prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 })
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true)
  })

  test('stream without include_usage has no usage field; raw wire ends with [DONE]', async () => {
    env.llm.reply({ chunks: ['a', 'b'] })
    const res = await env.t.app.handle(new Request('http://localhost/v1/chat/completions', {
      method: 'POST', headers: { authorization: `Bearer ${pat}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: ep.slug, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    }))
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const text = await res.text()
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true)
    expect(text).not.toContain('"usage"')
  })

  test('tool activity is reported as reasoning_content, never as tool_calls', async () => {
    env.llm.reply({ toolCalls: [{ name: 'current_time', arguments: { timezone: 'UTC' } }] }, { text: 'It is noon.' })
    const r = await client(pat).chat.completions.create({ model: ep.slug, messages: [{ role: 'user', content: 'time?' }] })
    const msg = r.choices[0].message as any
    expect(msg.content).toBe('It is noon.')
    expect(msg.tool_calls).toBeUndefined()
    expect(msg.reasoning_content).toContain('current_time')

    env.llm.reply({ toolCalls: [{ name: 'current_time', arguments: { timezone: 'UTC' } }] }, { text: 'Noon.' })
    const stream = await client(pat).chat.completions.create({ model: ep.slug, messages: [{ role: 'user', content: 'time?' }], stream: true })
    let reasoning = ''
    for await (const c of stream) reasoning += (c.choices[0]?.delta as any)?.reasoning_content ?? ''
    expect(reasoning).toContain('Calling tool `current_time`')
    expect(reasoning).toContain('finished')
  })

  test('errors: unknown or foreign model 404 model_not_found; bad body 400; upstream failure keeps its status', async () => {
    const bobsEp = await createEndpoint(env.t, bob, { name: 'Bobs private' })
    for (const model of ['nope', bobsEp.slug]) {
      const err = await client(pat).chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }).catch((e) => e)
      expect(err).toBeInstanceOf(OpenAI.NotFoundError)
      expect(err.code).toBe('model_not_found')
    }
    const bad = await client(pat).chat.completions.create({ model: ep.slug, messages: [] }).catch((e) => e)
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError)
    expect(bad.param).toBe('messages')
    env.llm.reply({ status: 400, error: 'boom' })
    const up = await client(pat).chat.completions.create({ model: ep.slug, messages: [{ role: 'user', content: 'x' }] }).catch((e) => e)
    expect(up).toBeInstanceOf(OpenAI.APIError)
    expect(up.status).toBeGreaterThanOrEqual(500)
    expect(typeof up.error.message).toBe('string')
    env.llm.reset()
  })

  test('invalid JSON is a 400 in OpenAI shape', async () => {
    const res = await env.t.app.handle(new Request('http://localhost/v1/chat/completions', {
      method: 'POST', headers: { authorization: `Bearer ${pat}`, 'content-type': 'application/json' }, body: '{nope',
    }))
    expect(res.status).toBe(400)
    const body = await res.json()
    expect(body.error.type).toBe('invalid_request_error')
    expect(typeof body.error.message).toBe('string')
  })

  test('a token without endpoints.run is refused (403 permission_error)', async () => {
    const ro = (await env.t.req('POST', '/api/tokens', { token: alice.token, body: { name: 'ro', scopes: ['bots.read'] } })).body.key
    const err = await client(ro).chat.completions.create({ model: ep.slug, messages: [{ role: 'user', content: 'x' }] }).catch((e) => e)
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError)
    expect(err.type).toBe('permission_error')
  })

  test('rate limited: 429 RateLimitError with Retry-After and X-RateLimit-*', async () => {
    const limited = await createEndpoint(env.t, alice, { name: 'Tight', rate_limit_rpm: 1 })
    env.llm.reply({ text: 'one' })
    await client(pat).chat.completions.create({ model: limited.slug, messages: [{ role: 'user', content: 'x' }] })
    const err = await client(pat).chat.completions.create({ model: limited.slug, messages: [{ role: 'user', content: 'x' }] }).catch((e) => e)
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    expect(err.code).toBe('rate_limit_exceeded')
    expect(Number(err.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(err.headers.get('x-ratelimit-limit')).toBe('1')
  })
})

describe('X-Agentbase-Conversation', () => {
  test('continues a stored chat conversation: stored history replaces the sent one; both turns saved', async () => {
    const conv = await env.t.req('POST', '/api/chat/conversations', { token: alice.token, body: { title: 'support', workspace_id: alice.ws } })
    expect(conv.status).toBe(201)
    const convId = conv.body.conversation?.id ?? conv.body.id
    const c = client(pat, { defaultHeaders: { 'X-Agentbase-Conversation': convId } })
    env.llm.reply({ text: 'Nice to meet you, Ada.' })
    const first = await c.chat.completions.create({ model: ep.slug, messages: [{ role: 'user', content: 'I am Ada' }] })
    expect(first.choices[0].message.content).toBe('Nice to meet you, Ada.')
    env.llm.reply({ text: 'You are Ada.' })
    await c.chat.completions.create({ model: ep.slug, messages: [{ role: 'user', content: 'Who am I?' }] })
    const sent = env.llm.requests.at(-1)!.body.messages.slice(1).map((m: any) => [m.role, m.content])
    expect(sent).toEqual([['user', 'I am Ada'], ['assistant', 'Nice to meet you, Ada.'], ['user', 'Who am I?']])
    const stored = await env.t.req('GET', `/api/chat/conversations/${convId}/messages`, { token: alice.token })
    const rows = stored.body.messages ?? stored.body.data
    expect(rows.map((m: any) => [m.role, m.content])).toEqual([['user', 'I am Ada'], ['assistant', 'Nice to meet you, Ada.'], ['user', 'Who am I?'], ['assistant', 'You are Ada.']])
  })

  test('409 with Retry-After while a turn runs; unknown conversation 404', async () => {
    const conv = await env.t.req('POST', '/api/chat/conversations', { token: alice.token, body: { workspace_id: alice.ws } })
    const convId = conv.body.conversation?.id ?? conv.body.id
    const c = client(pat, { defaultHeaders: { 'X-Agentbase-Conversation': convId } })
    const n = env.llm.requests.length
    env.llm.reply({ text: 'slow', delayMs: 300 })
    const slow = c.chat.completions.create({ model: ep.slug, messages: [{ role: 'user', content: 'one' }] })
    while (env.llm.requests.length === n) await Bun.sleep(5)
    const busy = await c.chat.completions.create({ model: ep.slug, messages: [{ role: 'user', content: 'two' }] }).catch((e) => e)
    expect(busy.status).toBe(409)
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await slow).choices[0].message.content).toBe('slow')
    const missing = await client(pat, { defaultHeaders: { 'X-Agentbase-Conversation': 'conv_nope' } }).chat.completions.create({ model: ep.slug, messages: [{ role: 'user', content: 'x' }] }).catch((e) => e)
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError)
  })
})
