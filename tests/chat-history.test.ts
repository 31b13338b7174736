import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { windowHistory, units, loadWindow, MISSING_RESULT, RECENT_ROWS } from '../plugins/chat/history'
import type { ChatMessage } from '../src/agent/types'
import { chatEnv, conversation, send, userWithWorkspace, type Who } from './chat-kit'
import type { EpEnv } from './endpoints-kit'

/** History windowing: whole units within a token budget, never an orphaned tool result, at every cut point. */

type Row = Parameters<typeof windowHistory>[0][number]
const user = (content: string): Row => ({ role: 'user', content, status: 'completed', tool_calls: null, tool_call_id: null, tool_name: null, is_error: 0 })
const answer = (content: string): Row => ({ role: 'assistant', content, status: 'completed', tool_calls: null, tool_call_id: null, tool_name: null, is_error: 0 })
const calls = (...ids: string[]): Row => ({ role: 'assistant', content: '', status: 'completed', tool_calls: JSON.stringify(ids.map((id) => ({ id, name: 'lookup', arguments: { q: id } }))), tool_call_id: null, tool_name: null, is_error: 0 })
const result = (id: string, content = `result of ${id} `.repeat(20)): Row => ({ role: 'tool', content, status: 'completed', tool_calls: null, tool_call_id: id, tool_name: 'lookup', is_error: 0 })
const system = (content: string): Row => ({ role: 'system', content, status: 'completed', tool_calls: null, tool_call_id: null, tool_name: null, is_error: 0 })

/** What providers require of a message list. */
function assertValid(messages: ChatMessage[]) {
  if (messages.length) expect(messages[0].role).toBe('user')
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]
    if (m.role === 'tool') {
      // A tool result follows its assistant call (possibly after sibling results).
      let j = i - 1
      while (j >= 0 && messages[j].role === 'tool') j--
      const a = messages[j]
      expect(a?.role).toBe('assistant')
      expect((a as any).toolCalls.map((c: any) => c.id)).toContain(m.toolCallId)
    }
    if (m.role === 'assistant' && m.toolCalls?.length) {
      const ids = m.toolCalls.map((c) => c.id)
      const after: string[] = []
      for (let j = i + 1; j < messages.length && messages[j].role === 'tool'; j++) after.push((messages[j] as any).toolCallId)
      expect(after.sort()).toEqual([...ids].sort())
    }
  }
}

const conversationRows: Row[] = [
  system('Be helpful.'),
  user('first question '.repeat(30)),
  calls('a1', 'a2', 'a3'), result('a1'), result('a2'), result('a3'),
  answer('first answer '.repeat(10)),
  user('second'),
  calls('b1'), result('b1'),
  calls('c1', 'c2'), result('c1'), result('c2'),
  answer('second answer'),
  user('third '.repeat(50)),
  answer('third answer'),
  user('fourth'),
  calls('d1', 'd2'), result('d2'), result('d1'),
  answer('done'),
]

describe('windowHistory (pure)', () => {
  test('every budget from 0 to everything: valid lists, always a suffix of whole units', () => {
    const full = windowHistory(conversationRows, 1e9).messages
    expect(full.filter((m) => m.role === 'tool')).toHaveLength(8)
    let previous = -1
    for (let budget = 0; budget <= 2000; budget++) {
      const w = windowHistory(conversationRows, budget)
      assertValid(w.messages)
      expect(w.system).toEqual(['Be helpful.'])
      // A suffix of the full window, growing with the budget.
      expect(full.slice(full.length - w.messages.length)).toEqual(w.messages)
      expect(w.messages.length).toBeGreaterThanOrEqual(previous)
      expect(w.dropped + w.messages.length).toBe(full.length)
      previous = w.messages.length
    }
    expect(previous).toBe(full.length)
  })

  test('a call whose results were never saved gets a "no result" answer; an orphan result is never sent', () => {
    const rows: Row[] = [user('q'), calls('x1', 'x2'), result('x1'), answer('partial'), result('ghost'), user('next')]
    const w = windowHistory(rows, 1e9)
    assertValid(w.messages)
    const tools = w.messages.filter((m) => m.role === 'tool') as any[]
    expect(tools.map((m) => [m.toolCallId, m.content === MISSING_RESULT])).toEqual([['x1', false], ['x2', true]])
    expect(tools.some((m) => m.toolCallId === 'ghost')).toBe(false)
  })

  test('failed turns with no content are left out; parallel results stay with their call whatever their order', () => {
    const rows: Row[] = [user('q'), { ...answer(''), status: 'error' }, user('again'), calls('p1', 'p2'), result('p2'), result('p1'), answer('ok')]
    const u = units(rows).units
    expect(u.map((x) => x.map((m) => m.role))).toEqual([['user'], ['user'], ['assistant', 'tool', 'tool'], ['assistant']])
  })
})

describe('loadWindow reads only the recent rows it needs', () => {
  const rows: Row[] = [system('sys')]
  for (let i = 0; i < 150; i++) rows.push(user(`q${i}`), calls(`c${i}a`, `c${i}b`), result(`c${i}a`, 'r'), result(`c${i}b`, 'r'), answer(`a${i}`))
  const others = rows.filter((r) => r.role !== 'system')
  const reads: number[] = []
  const src = { system: () => rows.filter((r) => r.role === 'system'), recent: (n: number) => { reads.push(n); return others.slice(-n) } }
  test('the same window as over the whole history, for small and huge budgets', () => {
    for (const budget of [0, 5, 50, 200, 1000, 1e9]) {
      reads.length = 0
      const w = loadWindow(src, budget)
      expect(w.messages).toEqual(windowHistory(rows, budget).messages)
      assertValid(w.messages)
      expect(w.system).toEqual(['sys'])
      if (budget <= 200) expect(reads).toEqual([RECENT_ROWS])
      if (budget === 1e9) expect(reads).toEqual([RECENT_ROWS, RECENT_ROWS * 2, RECENT_ROWS * 4])
    }
  })
})

describe('over HTTP', () => {
  let env: EpEnv
  let alice: Who
  beforeAll(async () => { env = await chatEnv(); alice = await userWithWorkspace(env.t) })
  afterAll(() => env.close())

  test('a long conversation sends only what fits, and never a tool result without its call', async () => {
    const conv = await conversation(env.t, alice)
    env.llm.reply({ text: 'noted' })
    expect((await send(env.t, alice, conv, { content: `remember this: ${'x'.repeat(60_000)}` })).status).toBe(200)
    env.llm.reply({ toolCalls: [{ id: 't1', name: 'current_time', arguments: { timezone: 'UTC' } }, { id: 't2', name: 'current_time', arguments: { timezone: 'Asia/Tokyo' } }] }, { text: 'times' })
    expect((await send(env.t, alice, conv, { content: 'What time is it in UTC and Tokyo?' })).status).toBe(200)
    env.llm.reply({ text: 'bye' })
    expect((await send(env.t, alice, conv, { content: 'thanks, and now?' })).status).toBe(200)
    const sent = env.llm.requests.at(-1)!.body.messages as any[]
    expect(JSON.stringify(sent)).not.toContain('x'.repeat(1000))
    expect(sent[1].role).toBe('user') // after the system prompt
    const toolIds = sent.filter((m) => m.role === 'tool').map((m) => m.tool_call_id)
    expect(toolIds).toEqual(['t1', 't2'])
    const asked = sent.find((m) => m.tool_calls)
    expect(asked.tool_calls.map((c: any) => c.id)).toEqual(['t1', 't2'])
  })
})
