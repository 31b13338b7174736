/** Shared setup for the bots test files: an app over the fake LLM, users with a workspace, bot creation. */
import { startFakeLlm, type FakeLlm } from './fixtures/fake-llm'
import { testApp, type TestApp } from './helpers'
import type { Clock } from '../src/clock'

export interface BotsEnv { t: TestApp; llm: FakeLlm; close(): void }

export async function botsEnv(opts: { env?: Record<string, string>; clock?: Clock } = {}): Promise<BotsEnv> {
  const llm = await startFakeLlm()
  const t = testApp({
    clock: opts.clock,
    env: {
      OPENAI_BASE_URL: llm.openaiBase, OPENAI_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: llm.anthropicBase, ANTHROPIC_API_KEY: 'sk-ant-test',
      AGENTBASE_PUBLIC_URL: 'https://bots.example.com', ...opts.env,
    },
  })
  return { t, llm, close() { t.close(); llm.close() } }
}

import type { Who } from './helpers'
export { userWithWorkspace, type Who } from './helpers'

/** Creates a custom-platform bot on OpenAI gpt-4o-mini (priced, so costs are non-zero); returns its id. */
export async function createBot(t: TestApp, who: Who, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await t.req('POST', '/api/bots', {
    token: who.token,
    body: { name: 'Support Bot', platform: 'custom', workspace_id: who.ws, system_prompt: 'You are helpful.', llm_provider: 'openai', llm_model: 'gpt-4o-mini', ...extra },
  })
  if (r.status !== 201) throw new Error(`create bot: ${r.status} ${r.text}`)
  return r.body.bot.id
}

export async function activate(t: TestApp, who: Who, id: string) {
  const r = await t.req('POST', `/api/bots/${id}/activate`, { token: who.token })
  if (r.status !== 200) throw new Error(`activate: ${r.status} ${r.text}`)
  return r.body
}

/** Logs in again (JWTs expire 24 h after the ManualClock's now: call after moving the clock far). */
export async function relogin(t: TestApp, who: Who, password = 'correct-horse-battery') {
  const l = await t.req('POST', '/api/auth/login', { body: { email: who.email, password } })
  if (l.status !== 200) throw new Error(`login: ${l.status} ${l.text}`)
  who.token = l.body.token
}
