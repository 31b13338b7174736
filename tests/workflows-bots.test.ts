/** Bots' workflow_json / workflow_enabled run through the workflows engine: the workflow answers, not the model. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { epEnv, userWithWorkspace, type EpEnv, type Who } from './endpoints-kit'
import { activate, createBot } from './bots-kit'
import { handleIncoming } from '../plugins/bots/engine'

let env: EpEnv
let u: Who
beforeAll(async () => { env = await epEnv(); u = await userWithWorkspace(env.t) })
afterAll(() => env.close())

const patch = (id: string, body: unknown) => env.t.req('PATCH', `/api/bots/${id}`, { token: u.token, body })

test('an enabled workflow answers each message with its output; no model call', async () => {
  const id = await createBot(env.t, u, { fallback_message: 'Sorry!' })
  await activate(env.t, u, id)
  const steps = [
    { id: 'route', type: 'condition', condition: { left: '{{ input.text }}', operator: 'contains', right: 'price' }, on_true: 'price', on_false: 'echo' },
    { id: 'price', type: 'transform', template: 'Our plans start at {{ vars.price }}.', next: 'end' },
    { id: 'echo', type: 'transform', template: { reply: 'Hi {{ input.user_name | default: "there" }}, you said: {{ input.text }}' } },
  ]
  const r = await patch(id, { workflow_json: { steps, variables: { price: '$9' } }, workflow_enabled: true })
  expect(r.status).toBe(200)
  expect(r.body.bot ?? r.body).toMatchObject({ workflow_enabled: true })
  const before = env.llm.requests.length
  const a = await handleIncoming(env.t.k, id, { chatId: 'c1', userId: 'u1', userName: 'Ada', text: 'what is the price?' })
  expect(a.replies).toEqual(['Our plans start at $9.'])
  const b = await handleIncoming(env.t.k, id, { chatId: 'c1', userId: 'u1', userName: 'Ada', text: 'hello' })
  expect(b.replies).toEqual(['Hi Ada, you said: hello'])
  expect(env.llm.requests.length).toBe(before)
  const execs = (await env.t.req('GET', '/api/workflows/executions', { token: u.token })).body.filter((e: any) => e.source === 'bot')
  expect(execs.length).toBe(2)
  expect(execs[0].input_data).toMatchObject({ text: 'hello', user_id: 'u1', chat_id: 'c1' })

  // A change of workflow_json makes a new version; a failing workflow answers the fallback message.
  await patch(id, { workflow_json: { steps: [{ id: 'bad', type: 'transform', template: '{{ input.nope }}' }] } })
  const c = await handleIncoming(env.t.k, id, { chatId: 'c1', userId: 'u1', text: 'x' })
  expect(c.replies).toEqual(['Sorry!'])
  expect(c.failed).toBe(true)
  const versions = await env.t.req('GET', `/api/workflows/${execs[0].workflow_id}/versions`, { token: u.token })
  expect(versions.body.map((v: any) => v.version)).toEqual([2, 1])

  // Disabled: the model answers again.
  await patch(id, { workflow_enabled: false })
  env.llm.reply({ text: 'from the model' })
  expect((await handleIncoming(env.t.k, id, { chatId: 'c1', userId: 'u1', text: 'hi' })).replies).toEqual(['from the model'])
})

test('workflow_json is validated before it can be enabled', async () => {
  const id = await createBot(env.t, u)
  const legacy = await patch(id, { workflow_json: { nodes: [{ id: 'a', type: 'start' }], edges: [] }, workflow_enabled: true })
  expect(legacy.status).toBe(400)
  expect(legacy.body.details.workflow_json).toBe('must have steps')
  const bad = await patch(id, { workflow_json: { steps: [{ id: 'x', type: 'teleport' }] }, workflow_enabled: true })
  expect(bad.status).toBe(400)
  expect(bad.body.details['workflow_json.steps[0].type']).toMatch(/must be one of/)
  expect((await patch(id, { workflow_json: { nodes: [{ id: 'a', type: 'start' }], edges: [] } })).status).toBe(200) // stored, not enabled
})
