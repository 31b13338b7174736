import { describe, expect, test } from 'bun:test'
import { ToolIndex, tokenize, paramNames } from '../plugins/chat/ranking'
import { classifyIntent } from '../plugins/chat/intent'
import { TOOLS, REQUESTS, HELDOUT } from '../bench/chat/tools-dataset'

/** The tool ranker and the model-free intent classifier (pure functions; the HTTP suites cover their wiring). */

const index = (docs: Array<{ name: string; description: string; params?: string[] }>) => new ToolIndex(docs.map((d) => ({ ...d, params: d.params ?? [] })))

describe('tokenize', () => {
  test('splits camelCase and snake_case, lowercases, drops stop words, stems plurals and -ing', () => {
    expect(tokenize('listIssues for the repo')).toEqual(['list', 'issue', 'repo'])
    expect(tokenize('github_create_pull_request')).toEqual(['github', 'create', 'pull', 'request'])
    expect(tokenize('Sending messages to companies')).toEqual(['send', 'message', 'company'])
  })
  test('parameter names come from the top level and one nested level', () => {
    expect(paramNames({ type: 'object', properties: { to: {}, text: { type: 'object', properties: { body: {} } } } })).toEqual(['to', 'text', 'body'])
    expect(paramNames(null)).toEqual([])
  })
})

describe('ToolIndex', () => {
  const idx = index([
    { name: 'slack_send_message', description: 'Send a message to a Slack channel', params: ['channel', 'text'] },
    { name: 'github_create_issue', description: 'Open an issue in a repository', params: ['owner', 'repo', 'title'] },
    { name: 'weather_lookup', description: 'Look up conditions', params: ['city'] },
    { name: 'notes_add', description: 'Add a note that mentions github sometimes', params: [] },
  ])
  test('name words outrank description words; parameter names count', () => {
    expect(idx.rank('github')[0].name).toBe('github_create_issue')
    expect(idx.rank('what is it like in this city')[0].name).toBe('weather_lookup')
    expect(idx.rank('post to the #ops channel')[0]).toMatchObject({ name: 'slack_send_message' })
    expect(idx.rank('post to the #ops channel')[0].matched).toEqual(expect.arrayContaining(['channel', 'send']))
  })
  test('nothing matching gives nothing; a limit keeps the best; repeated queries give the same answer', () => {
    expect(idx.rank('zzz qqq')).toEqual([])
    expect(idx.rank('send a github issue message', { limit: 2 })).toHaveLength(2)
    expect(idx.rank('send a github issue message')).toEqual(idx.rank('send a github issue message'))
  })
  test('recall@5 stays at or above 0.9 on the labelled set and the held-out requests (bench/chat-ranking.ts reports it)', () => {
    const big = new ToolIndex(TOOLS)
    for (const set of [REQUESTS, HELDOUT]) {
      const hits = set.filter(([q, want]) => big.rank(q, { limit: 5 }).some((r) => r.name === want)).length
      expect(hits / set.length).toBeGreaterThanOrEqual(0.9)
    }
  })
})

describe('classifyIntent (model-free)', () => {
  const idx = index([{ name: 'current_time', description: 'The current date and time in a time zone', params: ['timezone'] }, { name: 'slack_send_message', description: 'Send a Slack message', params: ['channel', 'text'] }])
  const ask = (q: string) => classifyIntent(q, idx.rank(q))
  test('greetings need no tools; actions and live-data questions do; explanations do not', () => {
    expect(ask('thanks!')).toMatchObject({ intent: 'conversation', needs_tools: false, method: 'heuristic' })
    expect(ask('Send a Slack message to #ops: deploy done')).toMatchObject({ intent: 'action', needs_tools: true })
    expect(ask('What is the current time in Tokyo?').needs_tools).toBe(true)
    // A small catalog scores low; a word of the tool's own name still counts.
    expect(ask('what time is it in Paris?')).toMatchObject({ intent: 'data_query', needs_tools: true })
    expect(ask('Explain what a webhook is')).toMatchObject({ intent: 'conversation', needs_tools: false })
    expect(ask('fetch https://example.com')).toMatchObject({ needs_tools: true })
    for (const q of ['thanks!', 'Send a Slack message', 'Explain what a webhook is']) {
      const r = ask(q)
      expect(r.confidence).toBeGreaterThan(0)
      expect(r.confidence).toBeLessThanOrEqual(1)
      expect(r.reasoning.length).toBeGreaterThan(10)
    }
  })
})
