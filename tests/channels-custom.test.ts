/** The custom channel: unverified, synchronous, the reference's answer shape; ordered per channel. */
import { afterAll, expect, test } from 'bun:test'
import { testApp } from './helpers'
import { startFakeLlm } from './fixtures/fake-llm'

const llm = await startFakeLlm()
const t = testApp({ env: { OPENAI_BASE_URL: llm.openaiBase, OPENAI_API_KEY: 'sk-test' } })
const owner = await t.user()
const ws = (await t.req('POST', '/api/workspaces', { token: owner.token, body: { name: 'Custom' } })).body.workspace
afterAll(() => { t.close(); llm.close() })

let n = 0
async function customBot(extra: Record<string, unknown> = {}, activate = true) {
  const r = await t.req('POST', '/api/bots', { token: owner.token, body: { name: `custom ${++n}`, platform: 'custom', workspace_id: ws.id, system_prompt: 'Be brief.', llm_provider: 'openai', llm_model: 'gpt-4o-mini', ...extra } })
  expect(r.status).toBe(201)
  if (activate) {
    const a = await t.req('POST', `/api/bots/${r.body.bot.id}/activate`, { token: owner.token })
    expect(a.status).toBe(200)
    expect(a.body.manual_setup_required).toBe(false)
  }
  return r.body.bot.id as string
}
const send = (id: string, body: unknown) => t.req('POST', `/api/bots/webhook/custom/${id}`, { body })

test('answers synchronously in the reference shape', async () => {
  const id = await customBot()
  llm.reply({ text: 'Hi Jane! How can I help?', usage: { input: 200, output: 15 } })
  const r = await send(id, { text: 'Hello', user_id: 'user_1', channel_id: 'channel_1', user_name: 'Jane' })
  expect(r.status).toBe(200)
  expect(r.body).toMatchObject({ response: 'Hi Jane! How can I help?', tool_calls: [], tokens: { input: 200, output: 15 } })
  expect(typeof r.body.cost_cents).toBe('number')
  expect(r.body.cost_cents).toBeGreaterThan(0)
  expect(typeof r.body.latency_ms).toBe('number')
  expect(r.body.conversation_id).toStartWith('bconv_')
  const conv = t.k.db.query<{ platform_chat_id: string; platform_user_id: string; platform_user_name: string }, [string]>('SELECT platform_chat_id, platform_user_id, platform_user_name FROM bot_conversations WHERE id = ?').get(r.body.conversation_id)
  expect(conv).toEqual({ platform_chat_id: 'channel_1', platform_user_id: 'user_1', platform_user_name: 'Jane' })
  expect(t.k.db.query('SELECT count(*) AS n FROM channel_inbox').get()).toEqual({ n: 0 }) // synchronous: no inbox
})

test('bad input is 400; draft, paused and unknown bots are 404; nothing runs', async () => {
  const draft = await customBot({}, false)
  const paused = await customBot()
  expect((await t.req('POST', `/api/bots/${paused}/pause`, { token: owner.token })).status).toBe(200)
  const live = await customBot()
  const before = llm.requests.length
  const cases: Array<[string, unknown, number]> = [
    [live, {}, 400], [live, { text: '' }, 400], [live, { text: 5 }, 400], [live, { text: 'x'.repeat(32001) }, 400],
    [draft, { text: 'hi' }, 404], [paused, { text: 'hi' }, 404], ['bt_doesnotexist', { text: 'hi' }, 404],
  ]
  for (const [id, body, status] of cases) {
    const r = await send(id, body)
    expect([id, r.status]).toEqual([id, status])
    expect(typeof r.body.error).toBe('string')
  }
  expect(llm.requests.length).toBe(before)
})

test('welcome message on the first interaction, then the answer', async () => {
  const id = await customBot({ welcome_message: 'Welcome!' })
  llm.reply({ text: 'first answer' }, { text: 'second answer' })
  expect((await send(id, { text: 'hi', user_id: 'u1' })).body.response).toBe('Welcome!\n\nfirst answer')
  expect((await send(id, { text: 'again', user_id: 'u1' })).body.response).toBe('second answer')
})

test('LLM failure answers the fallback; the spending cap stops model calls', async () => {
  const id = await customBot({ fallback_message: 'Not now.', spending_cap_cents: 0.01 })
  llm.reply({ status: 401, error: 'bad key' })
  const failed = await send(id, { text: 'one', user_id: 'u' })
  expect(failed.status).toBe(200)
  expect(failed.body.response).toBe('Not now.')
  llm.reply({ text: 'expensive', usage: { input: 20000, output: 20000 } })
  expect((await send(id, { text: 'two', user_id: 'u' })).body.response).toBe('expensive')
  const before = llm.requests.length
  expect((await send(id, { text: 'three', user_id: 'u' })).body.response).toBe('Not now.')
  expect(llm.requests.length).toBe(before)
})

test('concurrent messages of one channel run one at a time, in order', async () => {
  const id = await customBot()
  llm.reply({ text: 'slow', delayMs: 300 }, { text: 'fast' })
  const first = send(id, { text: 'q1', user_id: 'same', channel_id: 'c' })
  await llm.waitForRequests(llm.requests.length + 1)
  const second = send(id, { text: 'q2', user_id: 'same', channel_id: 'c' })
  const [a, b] = await Promise.all([first, second])
  expect([a.body.response, b.body.response]).toEqual(['slow', 'fast'])
  expect(llm.requests.at(-1)!.body.messages.map((m: any) => m.content)).toEqual(['Be brief.', 'q1', 'slow', 'q2'])
})
