import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { testApp } from './helpers'
import { startFakeLlm } from './fixtures/fake-llm'
import { collect, run } from '../src/agent/run'

/**
 * Issue 11 item 3: the LLM client never follows a redirect. An allowed host answering 307 must not get the prompt
 * (and the key) forwarded to a loopback service, and nothing that service says may come back in the error.
 */

const INTERNAL_SECRET = 'INTERNAL-ONLY-9f3a'
let internalHits = 0
const internal = Bun.serve({
  port: 0, hostname: '127.0.0.1',
  fetch: () => { internalHits++; return Response.json({ error: { message: `admin console says ${INTERNAL_SECRET}` } }, { status: 400 }) },
})
let redirectorHits = 0
const redirector = Bun.serve({
  port: 0, hostname: '127.0.0.1',
  fetch: () => {
    redirectorHits++
    return new Response(`moved, see ${INTERNAL_SECRET}`, { status: 307, headers: { location: `http://127.0.0.1:${internal.port}/v1/chat/completions` } })
  },
})
const redirectorBase = `http://127.0.0.1:${redirector.port}/v1`
const fake = await startFakeLlm()

// The operator points OpenAI at the redirector (a compromised or misconfigured proxy); custom runs use it as a user URL.
const t = testApp({ env: { OPENAI_BASE_URL: redirectorBase, OPENAI_API_KEY: 'sk-platform', ANTHROPIC_BASE_URL: `http://127.0.0.1:${redirector.port}`, ANTHROPIC_API_KEY: 'sk-ant' } })
afterAll(() => { t.close(); internal.stop(true); redirector.stop(true); fake.close() })
beforeEach(() => { internalHits = 0; redirectorHits = 0; fake.reset() })

const FAST = { baseMs: 2, maxRetries: 2 }

describe('LLM calls do not follow redirects', () => {
  for (const stream of [true, false]) {
    test(`user base URL (custom provider, ${stream ? 'stream' : 'json'}): 502, no hop to the redirect target, no reflected text`, async () => {
      const r = await collect(run(t.k, { systemPrompt: '', provider: 'custom', model: 'm', apiKey: 'ck', ownerId: 'u1', baseUrl: redirectorBase, retry: FAST }, { message: 'secret prompt' }, { stream }))
      expect(r.ok).toBe(false)
      if (!r.ok) {
        expect(r.status).toBe(502)
        expect(r.code).toBe('llm_redirect_refused')
        expect(r.error).not.toContain(INTERNAL_SECRET)
        expect(r.error).not.toContain(String(internal.port))
      }
      expect(redirectorHits).toBe(1) // a redirect is not worth a retry
      expect(internalHits).toBe(0)
    })
  }

  test('operator base URL (platform key): the key is not carried across the redirect either', async () => {
    for (const provider of ['openai', 'anthropic'] as const) {
      const r = await collect(run(t.k, { systemPrompt: '', provider, model: 'm', ownerId: 'u1', retry: FAST }, { message: 'x' }))
      expect(r.ok).toBe(false)
      if (!r.ok) { expect(r.code).toBe('llm_redirect_refused'); expect(r.error).not.toContain(INTERNAL_SECRET) }
    }
    expect(internalHits).toBe(0)
  })

  test('upstream error text reflected to the caller is capped', async () => {
    fake.reply({ status: 400, error: 'x'.repeat(5000) })
    const r = await collect(run(t.k, { systemPrompt: '', provider: 'custom', model: 'm', apiKey: 'ck', ownerId: 'u1', baseUrl: fake.openaiBase, retry: FAST }, { message: 'x' }))
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error.length).toBeLessThan(500)
  })
})

describe('the outbound guard', () => {
  test('a user base URL the guard refuses is never contacted', async () => {
    const strict = testApp({ env: { AGENTBASE_OUTBOUND_ALLOW: '' } })
    try {
      const r = await collect(run(strict.k, { systemPrompt: '', provider: 'custom', model: 'm', apiKey: 'ck', ownerId: 'u1', baseUrl: fake.openaiBase, retry: FAST }, { message: 'x' }))
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.code).toBe('url_refused')
      expect(fake.requests.length).toBe(0)
    } finally { strict.close() }
  })
})

test('an MCP server answering with a redirect: not followed, and its body is not quoted in the error', async () => {
  const u = await t.user()
  const ws = (await t.req('POST', '/api/workspaces', { token: u.token, body: { name: 'w' } })).body.workspace.id
  const r = await t.req('POST', `/api/workspaces/${ws}/mcp-servers`, { token: u.token, body: { name: 'Moved', url: `http://127.0.0.1:${redirector.port}/mcp` } })
  const text = JSON.stringify(r.body) + JSON.stringify((await t.req('GET', `/api/workspaces/${ws}/mcp-servers`, { token: u.token })).body)
  expect(text).toContain('redirect')
  expect(text).not.toContain(INTERNAL_SECRET)
  expect(internalHits).toBe(0)
})
