import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chatEnv, conversation, send, userWithWorkspace, type Who } from './chat-kit'
import type { EpEnv } from './endpoints-kit'
import { ConfigError, loadConfig } from '../src/config'

/**
 * The optional embeddings signal of tool selection (AGENTBASE_CHAT_EMBEDDINGS) against a fake OpenAI-compatible
 * /embeddings API whose vectors encode a few concepts, so a message sharing no word with a tool can still find it.
 */

const CONCEPTS: RegExp[] = [/\b(time|clock|late|early|hour|o'clock|zone)\b/i, /\b(http|url|web|fetch|page|site)\b/i, /\b(image|logo|picture)\b/i]
let failing = false
const seen: string[][] = []
const fake = Bun.serve({
  port: 0, hostname: '127.0.0.1',
  async fetch(req) {
    if (new URL(req.url).pathname !== '/v1/embeddings' || req.method !== 'POST') return new Response('no', { status: 404 })
    if (failing) return new Response('{"error":"down"}', { status: 500 })
    const body = await req.json() as { model: string; input: string[] }
    seen.push(body.input)
    return Response.json({ object: 'list', model: body.model, data: body.input.map((text, index) => ({ object: 'embedding', index, embedding: [...CONCEPTS.map((c) => (c.test(text) ? 1 : 0)), 0.05] })) })
  },
})

let env: EpEnv
let plain: EpEnv
let alice: Who
let bob: Who
beforeAll(async () => {
  env = await chatEnv({ OLLAMA_HOST: `http://127.0.0.1:${fake.port}`, AGENTBASE_CHAT_EMBEDDINGS: 'ollama:nomic-embed-text' })
  plain = await chatEnv()
  alice = await userWithWorkspace(env.t)
  bob = await userWithWorkspace(plain.t)
})
afterAll(() => { env.close(); plain.close(); fake.stop(true) })

const explain = (e: EpEnv, who: Who, conv: string, content: string) => e.t.req('POST', `/api/chat/conversations/${conv}/explain-tools`, { token: who.token, body: { content } })
const MESSAGE = 'is it late in Tokyo already?'

describe('with an embeddings model', () => {
  test('a message with no word in common with a tool still ranks it first; both signals are shown', async () => {
    const conv = await conversation(env.t, alice)
    const r = await explain(env, alice, conv, MESSAGE)
    expect(r.status).toBe(200)
    expect(r.body.signals).toEqual(['bm25', 'embeddings:nomic-embed-text'])
    expect(r.body.tools[0]).toMatchObject({ name: 'current_time', offered: true, bm25: 0 })
    expect(r.body.tools[0].semantic).toBeGreaterThan(0.9)
    // Tool vectors were computed once for the catalog; each message is embedded on its own.
    const batches = seen.length
    await explain(env, alice, conv, 'fetch the status page')
    expect(seen.length).toBe(batches + 1)
    expect(seen.at(-1)).toEqual(['fetch the status page'])
  })

  test('the turn offers what the combined ranking chose', async () => {
    const conv = await conversation(env.t, alice)
    env.llm.reply({ text: 'Yes, it is late.' })
    expect((await send(env.t, alice, conv, { content: MESSAGE })).status).toBe(200)
    expect(env.llm.requests.at(-1)!.body.tools.map((x: any) => x.function.name)).toContain('current_time')
  })

  test('when the embeddings API fails, BM25 alone decides (and nothing breaks)', async () => {
    const conv = await conversation(env.t, alice)
    failing = true
    try {
      const r = await explain(env, alice, conv, 'what time is it?')
      expect(r.status).toBe(200)
      expect(r.body.signals).toEqual(['bm25'])
      expect(r.body.tools[0].name).toBe('current_time')
      expect(r.body.tools[0].semantic).toBeUndefined()
    } finally { failing = false }
  })
})

describe('without one (the default)', () => {
  test('BM25 only: the same message finds nothing to offer', async () => {
    const conv = await conversation(plain.t, bob)
    const r = await explain(plain, bob, conv, MESSAGE)
    expect(r.body.signals).toEqual(['bm25'])
    expect(r.body.offered).toEqual([])
  })

  test('AGENTBASE_CHAT_EMBEDDINGS must be <provider>:<model> with an OpenAI-compatible provider', () => {
    expect(() => loadConfig({ AGENTBASE_CHAT_EMBEDDINGS: 'anthropic:x' })).toThrow(ConfigError)
    expect(() => loadConfig({ AGENTBASE_CHAT_EMBEDDINGS: 'openai' })).toThrow(/provider:model|<provider>:<model>/)
    expect(loadConfig({ AGENTBASE_CHAT_EMBEDDINGS: 'openai:text-embedding-3-small' }).chatEmbeddings).toEqual({ provider: 'openai', model: 'text-embedding-3-small' })
    expect(loadConfig({}).chatEmbeddings).toBeNull()
  })
})
