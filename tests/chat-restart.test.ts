/**
 * A chat turn cut off by a crash: the real server (a child process) is killed with SIGKILL mid-turn and restarted
 * on the same data dir; the run service marks the run interrupted and the conversation gets an error message for
 * that turn (no question left without an answer), and the conversation takes new turns.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeLlm } from './fixtures/fake-llm'
import { callServer, freePort, killAll, signUp, startServerProcess } from './fixtures/server-process'

const llm = await startFakeLlm()
const dir = mkdtempSync(join(tmpdir(), 'agentbase-chat-restart-'))
afterAll(() => {
  killAll()
  llm.close()
  rmSync(dir, { recursive: true, force: true })
})

const startServer = (port: number) => startServerProcess(dir, { PORT: String(port), OPENAI_BASE_URL: llm.openaiBase, OPENAI_API_KEY: 'sk-test' })

const api = (url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => callServer(url, method, path, body, { headers })

test('SIGKILL mid-turn, restart: the turn ends as an error message and the conversation goes on', async () => {
  const port = freePort()
  let s = await startServer(port)
  const token = await signUp(s.url, 'chat@example.com')
  const auth = { authorization: `Bearer ${token}` }
  await api(s.url, 'POST', '/api/workspaces', { name: 'w' }, auth)
  const conv = (await api(s.url, 'POST', '/api/chat/conversations', { title: 'crashy' }, auth)).body.conversation.id

  llm.reply({ hang: true })
  const pending = fetch(`${s.url}/api/chat/conversations/${conv}/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ content: 'are you there?' }) }).catch(() => null)
  await llm.waitForRequests(1)
  s.proc.kill(9)
  await s.proc.exited
  await pending

  s = await startServer(port)
  let messages: any[] = []
  for (let i = 0; i < 400; i++) {
    messages = (await api(s.url, 'GET', `/api/chat/conversations/${conv}/messages`, undefined, auth)).body.messages
    if (messages.length >= 2) break
    await Bun.sleep(25)
  }
  expect(messages.map((m) => [m.role, m.status])).toEqual([['user', 'completed'], ['assistant', 'error']])
  expect(messages[1].error_message).toBeTruthy()
  expect(messages[1].run_id).toMatch(/^run_/)

  llm.defaultReply = { text: 'back' }
  const next = await api(s.url, 'POST', `/api/chat/conversations/${conv}/messages`, { content: 'hello again' }, auth)
  expect(next.status).toBe(200)
  expect(next.body.content).toBe('back')
  s.proc.kill('SIGTERM')
  await s.proc.exited
}, 60_000)
