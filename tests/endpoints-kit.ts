/** Shared setup for the agent-endpoint test files: an app over the fake LLM, users with a workspace, endpoints. */
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { startFakeLlm, type FakeLlm } from './fixtures/fake-llm'
import { testApp, type TestApp } from './helpers'
import type { Clock } from '../src/clock'
import type { Config } from '../src/config'

export interface EpEnv { t: TestApp; llm: FakeLlm; close(): void }

export async function epEnv(opts: { env?: Record<string, string>; clock?: Clock; config?: Partial<Config> } = {}): Promise<EpEnv> {
  const llm = await startFakeLlm()
  const t = testApp({
    clock: opts.clock,
    config: opts.config,
    env: { OPENAI_BASE_URL: llm.openaiBase, OPENAI_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: llm.anthropicBase, ANTHROPIC_API_KEY: 'sk-ant-test', ...opts.env },
  })
  return { t, llm, close() { t.close(); llm.close() } }
}

import type { Who } from './helpers'
export { userWithWorkspace, type Who } from './helpers'

export interface Ep { id: string; slug: string; key: string; endpoint: any; callbackSecret?: string }

/** Creates (and by default activates) an endpoint on openai gpt-4o-mini (priced, so costs are non-zero). */
export async function createEndpoint(t: TestApp, who: Who, extra: Record<string, unknown> = {}, activate = true): Promise<Ep> {
  const r = await t.req('POST', '/api/agent-endpoints', { token: who.token, body: { name: 'Summarizer', workspace_id: who.ws, system_prompt: 'You summarize.', ...extra } })
  if (r.status !== 201) throw new Error(`create endpoint: ${r.status} ${r.text}`)
  if (activate) {
    const a = await t.req('POST', `/api/agent-endpoints/${r.body.endpoint.id}/activate`, { token: who.token })
    if (a.status !== 200) throw new Error(`activate: ${a.status} ${a.text}`)
  }
  return { id: r.body.endpoint.id, slug: r.body.endpoint.slug, key: r.body.api_key, endpoint: r.body.endpoint, callbackSecret: r.body.callback_secret }
}

export const count = (t: TestApp, table: string, where = '1 = 1', ...params: any[]) =>
  t.k.db.query<{ n: number }, any[]>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).get(...params)!.n

/** Parses an SSE body with eventsource-parser (what clients use). */
export function parseSse(text: string): EventSourceMessage[] {
  const out: EventSourceMessage[] = []
  const p = createParser({ onEvent: (e) => out.push(e) })
  p.feed(text)
  return out
}

/** Reads a streaming SSE response incrementally, calling `on` per event; resolves when the stream ends. */
export async function readSse(res: Response, on: (e: EventSourceMessage) => void | boolean): Promise<void> {
  let stop = false
  const p = createParser({ onEvent: (e) => { if (on(e) === true) stop = true } })
  const reader = res.body!.getReader()
  const dec = new TextDecoder()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    p.feed(dec.decode(value, { stream: true }))
    if (stop) { await reader.cancel().catch(() => {}); break }
  }
}

export { until } from './helpers'
