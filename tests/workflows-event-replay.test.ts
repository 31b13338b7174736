/**
 * Event triggers survive a crash between the event's commit and the listener: the next start replays the
 * events table after its cursor and creates each missing execution once (never a second one on a later start).
 */
import { afterAll, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { testApp, userWithWorkspace } from './helpers'
import { loadConfig } from '../src/config'
import { createKernel } from '../src/kernel'
import { createApp } from '../src/app'
import { createLogger } from '../src/log'

const t = testApp()
afterAll(() => rmSync(t.dir, { recursive: true, force: true }))

const reopen = () => {
  const k = createKernel(loadConfig({ AGENTBASE_DATA_DIR: t.dir, AGENTBASE_SYNC: 'normal', LOG_LEVEL: 'silent', AGENTBASE_PASSWORD_MEMORY_KIB: '1024' }), { log: createLogger('silent') })
  createApp(k)
  return k
}
const executions = (k: ReturnType<typeof reopen>, wf: string) =>
  k.db.query<{ status: string; input: string }, [string]>('SELECT status, input FROM workflow_executions WHERE workflow_id = ?').all(wf)

test('an event committed just before a crash still triggers its workflow, exactly once', async () => {
  const u = await userWithWorkspace(t)
  t.k.workers.start('workflows.resume') // first start: sets the cursor
  const wf = await t.req('POST', '/api/workflows/from-steps', {
    token: u.token, body: { name: 'On message', status: 'active', trigger_type: 'event', trigger_config: { event: 'bot.message.received' }, steps: [{ id: 'x', type: 'transform', template: '{{ input.text }}' }] },
  })
  expect(wf.status).toBe(201)
  const msg = { bot_id: 'bt_x', conversation_id: 'bconv_x', message_id: 'bmsg_x', platform: 'telegram', platform_chat_id: '1', platform_user_id: '2', user_name: 'Ada', text: 'lost in the crash' }
  await t.k.workers.stopAll()
  t.k.events.publish('bot.message.received', msg, { ownerId: u.id })
  t.k.close() // "crash" right after the commit: the listener runs after this and cannot write
  await Bun.sleep(10)

  let k = reopen()
  expect(executions(k, wf.body.id)).toEqual([])
  k.workers.start('workflows.resume')
  let rows: Array<{ status: string; input: string }> = []
  for (let i = 0; i < 200; i++) {
    rows = executions(k, wf.body.id)
    if (rows.length && rows[0].status === 'success') break
    await Bun.sleep(10)
  }
  expect(rows.map((r) => [r.status, JSON.parse(r.input).text])).toEqual([['success', 'lost in the crash']])
  await k.workers.stopAll()
  k.close()

  k = reopen()
  k.workers.start('workflows.resume')
  await Bun.sleep(50)
  expect(executions(k, wf.body.id).length).toBe(1) // replayed once, never again
  await k.workers.stopAll()
  k.close()
})
