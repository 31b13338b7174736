import { afterAll, beforeAll, expect, test } from 'bun:test'
import { EVENT_CATALOG, type EventSpec } from '../src/events/catalog'
import { validate } from '../src/agent/schema'
import { chatEnv, conversation, send, userWithWorkspace, type Who } from './chat-kit'
import type { EpEnv } from './endpoints-kit'

/** The chat flow's events (published by the run service): run.completed / run.failed name the conversation and match the catalog. */

let env: EpEnv
let alice: Who
const seen: Array<{ type: string; data: any }> = []
beforeAll(async () => {
  env = await chatEnv()
  env.t.k.events.subscribe((e) => seen.push({ type: e.type, data: e.data }))
  alice = await userWithWorkspace(env.t)
})
afterAll(() => env.close())

const problem = (type: string, data: unknown) => validate((EVENT_CATALOG as Record<string, EventSpec>)[type].schema as Record<string, unknown>, data)

test('a chat turn publishes run.completed, a failed one run.failed, each with source chat and the conversation id', async () => {
  const conv = await conversation(env.t, alice)
  env.llm.reply({ text: 'fine' })
  const ok = await send(env.t, alice, conv, { content: 'hello' })
  env.llm.reply({ status: 400, error: 'bad request' })
  const bad = await send(env.t, alice, conv, { content: 'again' })
  expect(bad.status).toBeGreaterThanOrEqual(400)
  await Bun.sleep(0)
  const done = seen.find((x) => x.type === 'run.completed' && x.data.run_id === ok.body.run_id)!
  expect(done.data).toMatchObject({ source: 'chat', source_id: conv, conversation_id: conv, status: 'success' })
  expect(problem('run.completed', done.data)).toBeNull()
  const failed = seen.find((x) => x.type === 'run.failed' && x.data.source === 'chat')!
  expect(failed.data).toMatchObject({ source_id: conv, conversation_id: conv, status: 'error' })
  expect(problem('run.failed', failed.data)).toBeNull()
})
