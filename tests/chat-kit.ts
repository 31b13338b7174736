/** Shared setup for the chat test files: an app over the fake LLM, users with a workspace, conversations, SSE. */
import type { EventSourceMessage } from 'eventsource-parser'
import { epEnv, parseSse, type EpEnv } from './endpoints-kit'
import type { TestApp, Who } from './helpers'
export { userWithWorkspace, type Who } from './helpers'
export { parseSse, readSse, count } from './endpoints-kit'
export { until } from './helpers'

export const chatEnv = (env: Record<string, string> = {}): Promise<EpEnv> => epEnv({ env })

export async function conversation(t: TestApp, who: Who, body: Record<string, unknown> = { title: 'Test chat' }): Promise<string> {
  const r = await t.req('POST', '/api/chat/conversations', { token: who.token, body })
  if (r.status !== 201) throw new Error(`create conversation: ${r.status} ${r.text}`)
  return r.body.conversation.id
}

export const send = (t: TestApp, who: Who, conv: string, body: Record<string, unknown>) =>
  t.req('POST', `/api/chat/conversations/${conv}/messages`, { token: who.token, body })

/** Sends with Accept: text/event-stream and parses the whole stream with eventsource-parser. */
export async function sendStream(t: TestApp, who: Who, conv: string, body: Record<string, unknown>): Promise<{ res: Response; events: EventSourceMessage[]; data: any[] }> {
  const res = await t.app.handle(new Request(`http://localhost/api/chat/conversations/${conv}/messages`, {
    method: 'POST', headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify(body),
  }))
  const events = parseSse(await res.text())
  return { res, events, data: events.map((e) => JSON.parse(e.data)) }
}

export const history = async (t: TestApp, who: Who, conv: string) => (await t.req('GET', `/api/chat/conversations/${conv}/messages?limit=200`, { token: who.token })).body.messages as any[]
