import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chatEnv, conversation, history, send, until, userWithWorkspace, type Who } from './chat-kit'
import { epEnv, readSse, type EpEnv } from './endpoints-kit'
import { tableCounts } from './helpers'

/** Turn edges: billing refusals, long histories and their pages, a client that goes away, the enqueue bound. */

let env: EpEnv
let alice: Who
const t = () => env.t

beforeAll(async () => {
  env = await chatEnv()
  alice = await userWithWorkspace(env.t)
})
afterAll(() => env.close())

describe('pages of a long conversation', () => {
  test('the snapshot is bounded (has_more); messages page by offset and by cursor, chronologically', async () => {
    const conv = await conversation(t(), alice, { title: 'long', system_prompt: 'sys' })
    env.llm.defaultReply = { text: 'ok' }
    for (let i = 0; i < 26; i++) expect((await send(t(), alice, conv, { content: `m${i}` })).status).toBe(200)
    const d = await t().req('GET', `/api/chat/conversations/${conv}`, { token: alice.token })
    expect(d.body.messages).toHaveLength(50)
    expect(d.body.has_more).toBe(true)
    expect(d.body.conversation.message_count).toBe(53)
    expect(d.body.messages.at(-1)).toMatchObject({ role: 'assistant', content: 'ok' })
    expect(d.body.messages.at(-2)).toMatchObject({ role: 'user', content: 'm25' })
    const all: any[] = []
    let cursor: string | null = null
    do {
      const r: any = await t().req('GET', `/api/chat/conversations/${conv}/messages?limit=20${cursor ? `&cursor=${cursor}` : ''}`, { token: alice.token })
      expect(r.status).toBe(200)
      expect(r.body.total).toBe(53)
      all.push(...r.body.messages)
      cursor = r.body.next_cursor
    } while (cursor)
    expect(all).toHaveLength(53)
    expect(all[0]).toMatchObject({ role: 'system', content: 'sys' })
    expect(all.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(Array.from({ length: 26 }, (_, i) => `m${i}`))
    const byOffset = await t().req('GET', `/api/chat/conversations/${conv}/messages?limit=2&offset=1`, { token: alice.token })
    expect(byOffset.body.messages.map((m: any) => m.content)).toEqual(['m0', 'ok'])
    expect((await t().req('GET', `/api/chat/conversations/${conv}/messages?cursor=msg_nope`, { token: alice.token })).status).toBe(400)
  })
})

describe('a client that goes away', () => {
  test('closing the stream cancels the turn: the message is saved as cancelled and the next turn runs', async () => {
    const conv = await conversation(t(), alice)
    env.llm.reply({ text: 'one two three four five six seven eight', tokenDelayMs: 150 })
    const n = env.llm.requests.length
    const res = await t().app.handle(new Request(`http://localhost/api/chat/conversations/${conv}/messages`, {
      method: 'POST', headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ content: 'tell me a story' }),
    }))
    const seen: string[] = []
    await readSse(res, (e) => { seen.push(e.event ?? ''); return e.event === 'text.delta' })
    expect(seen).toContain('run.started')
    await env.llm.waitForAbort(n)
    await until(async () => (await history(t(), alice, conv)).some((m) => m.status === 'cancelled'), 5000, 'cancelled message')
    const h = await history(t(), alice, conv)
    expect(h.map((m) => [m.role, m.status])).toEqual([['user', 'completed'], ['assistant', 'cancelled']])
    env.llm.reply({ text: 'back again' })
    const next = await send(t(), alice, conv, { content: 'hello?' })
    expect(next.status).toBe(200)
    expect(next.body.content).toBe('back again')
  })
})

describe('resuming a stream', () => {
  test('the chat stream\'s ids are the run\'s recorded sequence: /api/runs/:id/events resumes after Last-Event-ID', async () => {
    const conv = await conversation(t(), alice)
    env.llm.reply({ text: 'alpha beta gamma' })
    const { sendStream } = await import('./chat-kit')
    const { events, data } = await sendStream(t(), alice, conv, { content: 'say three words' })
    const runId = data[0].run_id
    const res = await t().app.handle(new Request(`http://localhost/api/runs/${runId}/events`, { headers: { authorization: `Bearer ${alice.token}`, 'last-event-id': '2' } }))
    expect(res.status).toBe(200)
    const { parseSse } = await import('./chat-kit')
    const replay = parseSse(await res.text())
    expect(replay.map((e) => [e.id, e.event])).toEqual(events.filter((e) => Number(e.id) > 2).map((e) => [e.id, e.event]))
  })
})

describe('the enqueue bound', () => {
  test('at most 5 messages wait behind a running turn; the 6th gets 429 with Retry-After', async () => {
    const conv = await conversation(t(), alice)
    env.llm.reply({ text: 'slow', delayMs: 600 })
    const n = env.llm.requests.length
    const first = send(t(), alice, conv, { content: 'first' })
    await env.llm.waitForRequests(n + 1)
    const queued = Array.from({ length: 5 }, (_, i) => send(t(), alice, conv, { content: `q${i}`, multitask: 'enqueue' }))
    await Bun.sleep(50)
    const over = await send(t(), alice, conv, { content: 'too many', multitask: 'enqueue' })
    expect(over.status).toBe(429)
    expect(over.body.code).toBe('turn_queue_full')
    expect(over.headers.get('retry-after')).toBeTruthy()
    const results = await Promise.all([first, ...queued])
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200])
    const users = (await history(t(), alice, conv)).filter((m) => m.role === 'user').map((m) => m.content)
    expect(users).toEqual(['first', 'q0', 'q1', 'q2', 'q3', 'q4'])
  })
})

describe('billing', () => {
  let billed: EpEnv
  let admin: { token: string }
  beforeAll(async () => {
    billed = await epEnv({ env: { AGENTBASE_BILLING: 'on' } })
    admin = await billed.t.user() // the first account is the admin
  })
  afterAll(() => billed.close())

  test('an empty wallet is 402 before anything is saved or sent', async () => {
    const u = await userWithWorkspace(billed.t)
    const conv = await conversation(billed.t, u)
    const before = tableCounts(billed.t.k)
    const n = billed.llm.requests.length
    const r = await send(billed.t, u, conv, { content: 'hi' })
    expect(r.status).toBe(402)
    expect(r.body.code).toBe('wallet_empty')
    expect(tableCounts(billed.t.k)).toEqual(before)
    expect(billed.llm.requests.length).toBe(n)
  })

  test('a turn the run service refuses after the user message was saved leaves an error message, not a dangling question', async () => {
    const u = await userWithWorkspace(billed.t)
    // A tiny balance: one running turn's reservation takes all of it.
    const credit = await billed.t.req('POST', '/api/wallet/credit', { token: admin.token, body: { user_id: u.id, amount_cents: 0.001 } })
    expect(credit.status).toBe(200)
    const c1 = await conversation(billed.t, u)
    const c2 = await conversation(billed.t, u)
    billed.llm.reply({ text: 'slow', delayMs: 400 })
    const n = billed.llm.requests.length
    const first = send(billed.t, u, c1, { content: 'first' })
    await billed.llm.waitForRequests(n + 1)
    const second = await send(billed.t, u, c2, { content: 'second' })
    expect(second.status).toBe(402)
    const h = await history(billed.t, u, c2)
    expect(h.map((m) => [m.role, m.status])).toEqual([['user', 'completed'], ['assistant', 'error']])
    expect(h[1].error_message).toMatch(/Wallet balance/)
    expect((await first).status).toBe(200)
  })
})
