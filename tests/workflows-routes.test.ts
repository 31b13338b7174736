/** Test routes, NL generation with the fake LLM, webhook and event triggers, scopes, retry schedules on a manual clock. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { testApp, until, userWithWorkspace, type TestApp, type Who } from './helpers'
import { startFakeLlm, type FakeLlm } from './fixtures/fake-llm'
import { ManualClock } from '../src/clock'
import { backoffMs, parseDuration } from '../plugins/workflows/retry'

let t: TestApp
let u: Who
let llm: FakeLlm
beforeAll(async () => {
  llm = await startFakeLlm()
  t = testApp({ env: { OPENAI_BASE_URL: llm.openaiBase, OPENAI_API_KEY: 'sk-test' } })
  u = await userWithWorkspace(t)
})
afterAll(() => { t.close(); llm.close() })

const save = async (body: Record<string, unknown>) => {
  const r = await t.req('POST', '/api/workflows/from-steps', { token: u.token, body: { name: 'wf', ...body } })
  expect(r.status).toBe(201)
  return r.body
}

describe('test-condition and test-substitution', () => {
  test('test-condition answers result, evaluated and expected values, operator', async () => {
    const r = await t.req('POST', '/api/workflows/test-condition', { token: u.token, body: { condition: { left: '{{ steps.lead.value }}', operator: '>', right: 1000 }, context: { steps: { lead: { value: 1500 } } } } })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ result: true, evaluated_value: 1500, expected_value: 1000, operator: '>' })
    const cel = await t.req('POST', '/api/workflows/test-condition', { token: u.token, body: { condition: { expression: 'input.tier == "gold"' }, context: { input: { tier: 'silver' } } } })
    expect(cel.body).toMatchObject({ result: false, operator: 'expression' })
    const bad = await t.req('POST', '/api/workflows/test-condition', { token: u.token, body: { condition: { left: 'a', operator: 'matches', right: '(a+)+$' }, context: {} } })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatch(/catastrophic/)
  })

  test('test-substitution lists every substitution; injection strings stay text', async () => {
    const r = await t.req('POST', '/api/workflows/test-substitution', {
      token: u.token,
      body: { parameters: { to: '{{ vars.channel }}', text: 'Deal {{ input.deal.name }} worth {{ input.deal.value }}', n: '{{ input.deal.value }}', evil: "{{constructor.constructor('return process')()}}" }, context: { input: { deal: { name: 'Acme', value: 5 } }, vars: { channel: '#wins' } } },
    })
    expect(r.status).toBe(200)
    expect(r.body.substituted_parameters).toEqual({ to: '#wins', text: 'Deal Acme worth 5', n: 5, evil: "{{constructor.constructor('return process')()}}" })
    expect(r.body.original_parameters.to).toBe('{{ vars.channel }}')
    expect(r.body.substitutions_made).toEqual([
      { placeholder: '{{ vars.channel }}', path: 'vars.channel', value: '#wins' },
      { placeholder: '{{ input.deal.name }}', path: 'input.deal.name', value: 'Acme' },
      { placeholder: '{{ input.deal.value }}', path: 'input.deal.value', value: 5 },
      { placeholder: '{{ input.deal.value }}', path: 'input.deal.value', value: 5 },
    ])
    const missing = await t.req('POST', '/api/workflows/test-substitution', { token: u.token, body: { parameters: { a: '{{ input.nope }}' }, context: {} } })
    expect(missing.status).toBe(400)
    expect(missing.body.error).toBe('Unknown path "input.nope"')
  })
})

describe('natural-language generation', () => {
  const good = {
    name: 'Lead alert', trigger_type: 'manual', variables: { threshold: 1000 },
    steps: [
      { id: 'check', type: 'condition', condition: { left: '{{ input.value }}', operator: '>', right: '{{ vars.threshold }}' }, on_true: 'notify', on_false: 'end' },
      { id: 'notify', type: 'tool', tool: 'http_request', parameters: { method: 'POST', url: '{{ input.hook }}', body: 'Big deal: {{ input.value }}' } },
    ],
  }

  test('a valid answer is saved as a draft in the reference shape', async () => {
    llm.reset()
    llm.reply({ text: '```json\n' + JSON.stringify(good) + '\n```' })
    const r = await t.req('POST', '/api/workflows', { token: u.token, body: { description: 'When a lead is worth more than 1000, post to my hook' } })
    expect(r.status).toBe(201)
    expect(r.body).toMatchObject({ name: 'Lead alert', status: 'draft', version: 1, is_template: false, trigger_type: 'manual', variables: { threshold: 1000 } })
    for (const f of ['id', 'description', 'trigger_config', 'workflow_metadata', 'created_at', 'updated_at', 'steps']) expect(r.body).toHaveProperty(f)
    expect(r.body.id).toMatch(/^wf_/)
    expect(r.body.steps.map((s: any) => s.id)).toEqual(['check', 'notify'])
    expect(llm.requests[0].body.messages[0].content).toContain('http_request(')
  })

  test('an invalid answer is repaired in one turn with the problems handed back', async () => {
    llm.reset()
    const broken = { ...good, steps: [{ id: 'x', type: 'tool', tool: 'hubspot_get_deals', parameters: {} }, { id: 'y', type: 'tool', tool: 'http_request', parameters: { verb: 'GET' } }] }
    llm.reply({ text: JSON.stringify(broken) }, { text: JSON.stringify(good) })
    const r = await t.req('POST', '/api/workflows', { token: u.token, body: { description: 'Fetch deals and post them', name: 'Mine' } })
    expect(r.status).toBe(201)
    expect(r.body.name).toBe('Mine')
    const repair = llm.requests[1].body.messages.at(-1).content
    expect(repair).toContain('unknown tool "hubspot_get_deals"')
    expect(repair).toContain('steps[1].parameters.url: is required by tool "http_request"')
    expect(repair).toContain('steps[1].parameters.verb: is not a parameter')
  })

  test('a hopeless answer is refused with 422 and the problems; nothing is saved', async () => {
    llm.reset()
    const before = (await t.req('GET', '/api/workflows', { token: u.token })).body.length
    llm.reply({ text: 'I cannot do that' }, { text: JSON.stringify({ steps: [{ id: 'a', type: 'teleport' }] }) })
    const r = await t.req('POST', '/api/workflows', { token: u.token, body: { description: 'Teleport my data' } })
    expect(r.status).toBe(422)
    expect(r.body.code).toBe('generation_failed')
    expect(r.body.details['steps[0].type']).toMatch(/must be one of/)
    expect(llm.requests.length).toBe(2)
    expect((await t.req('GET', '/api/workflows', { token: u.token })).body.length).toBe(before)
  })

  test('without a name, one is generated from the description when the model gives none', async () => {
    llm.reset()
    const { name: _n, ...anon } = good
    llm.reply({ text: JSON.stringify(anon) })
    const r = await t.req('POST', '/api/workflows', { token: u.token, body: { description: 'notify slack about big deals' } })
    expect(r.body.name).toBe('Notify Slack About Big Deals')
  })
})

describe('llm step', () => {
  test('runs the prompt through the runtime; stream mode carries its text deltas', async () => {
    llm.reset()
    llm.reply({ text: 'Short summary.' })
    const w = await save({ steps: [{ id: 'sum', type: 'llm', prompt: 'Summarise: {{ input.text }}' }] })
    const r = await t.req('POST', `/api/workflows/${w.id}/execute`, { token: u.token, body: { input_data: { text: 'long text' }, mode: 'stream' } })
    expect(r.text).toContain('event: text.delta')
    expect(r.text).toContain('event: run.completed')
    expect(llm.requests[0].body.messages.at(-1).content).toBe('Summarise: long text')
    const ex = (await t.req('GET', '/api/workflows/executions', { token: u.token })).body[0]
    expect(ex.output_data).toBe('Short summary.')
    // The model call is a recorded run of the run service, source workflow, tied to the execution.
    const runs = t.k.runs.list('workflow', w.id, 10)
    expect(runs.map((r) => [r.status, JSON.parse(r.meta).execution_id])).toEqual([['success', ex.id]])
  })
})

describe('triggers', () => {
  test('webhook: own secret, constant-time check, 202 with a durable execution', async () => {
    const w = await save({ trigger_type: 'webhook', status: 'active', steps: [{ id: 'echo', type: 'transform', template: { got: '{{ input.order }}', via: '{{ trigger.type }}' } }] })
    expect(w.webhook.secret).toMatch(/^wfs_/)
    expect(w.webhook.url).toBe(`http://localhost/api/workflows/hooks/${w.id}`)
    expect((await t.req('GET', `/api/workflows/${w.id}`, { token: u.token })).body.webhook).toEqual({ url: w.webhook.url, secret_header: 'X-Workflow-Secret', has_secret: true })
    const wrong = await t.req('POST', `/api/workflows/hooks/${w.id}`, { body: { order: 1 }, headers: { 'x-workflow-secret': 'wfs_nope' } })
    expect(wrong.status).toBe(404)
    expect((await t.req('POST', `/api/workflows/hooks/${w.id}`, { body: { order: 1 } })).status).toBe(404)
    const ok = await t.req('POST', `/api/workflows/hooks/${w.id}`, { body: { order: 7 }, headers: { 'x-workflow-secret': w.webhook.secret } })
    expect(ok.status).toBe(202)
    expect(ok.body.status).toBe('queued')
    let ex: any
    for (let i = 0; i < 100; i++) {
      ex = (await t.req('GET', ok.body.status_url, { token: u.token })).body
      if (ex.status === 'success') break
      await Bun.sleep(10)
    }
    expect(ex).toMatchObject({ status: 'success', source: 'webhook', output_data: { got: 7, via: 'webhook' } })
    const big = await t.req('POST', `/api/workflows/hooks/${w.id}`, { raw: 'x'.repeat(300 * 1024), headers: { 'x-workflow-secret': w.webhook.secret, 'content-type': 'text/plain' } })
    expect(big.status).toBe(413)
    const rotated = await t.req('POST', `/api/workflows/${w.id}/webhook-secret`, { token: u.token })
    expect(rotated.body.webhook.secret).not.toBe(w.webhook.secret)
    expect((await t.req('POST', `/api/workflows/hooks/${w.id}`, { body: {}, headers: { 'x-workflow-secret': w.webhook.secret } })).status).toBe(404)
    await t.req('PATCH', `/api/workflows/${w.id}`, { token: u.token, body: { status: 'paused' } })
    expect((await t.req('POST', `/api/workflows/hooks/${w.id}`, { body: {}, headers: { 'x-workflow-secret': rotated.body.webhook.secret } })).status).toBe(409)
  })

  test('event: an active workflow runs for its owner\'s matching events, with a filter', async () => {
    const w = await save({
      trigger_type: 'event', status: 'active', trigger_config: { event: 'bot.message.received', filter: { left: '{{ input.text }}', operator: 'contains', right: 'refund' } },
      steps: [{ id: 'route', type: 'transform', template: { text: '{{ input.text }}', event: '{{ trigger.event }}' } }],
    })
    const msg = (text: string) => ({ bot_id: 'bt_x', conversation_id: 'bconv_x', message_id: 'bmsg_x', platform: 'telegram', platform_chat_id: '1', platform_user_id: '2', user_name: 'Ada', text })
    t.k.events.publish('bot.message.received', msg('hello'), { ownerId: u.id })
    t.k.events.publish('bot.message.received', msg('I want a refund'), { ownerId: u.id })
    const other = await t.user()
    t.k.events.publish('bot.message.received', msg('refund please'), { ownerId: other.id })
    let list: any[] = []
    for (let i = 0; i < 100; i++) {
      list = (await t.req('GET', `/api/workflows/${w.id}/executions`, { token: u.token })).body
      if (list.length && list.every((e) => e.status === 'success')) break
      await Bun.sleep(10)
    }
    await Bun.sleep(50)
    list = (await t.req('GET', `/api/workflows/${w.id}/executions`, { token: u.token })).body
    expect(list.length).toBe(1)
    expect(list[0]).toMatchObject({ source: 'event', output_data: { text: 'I want a refund', event: 'bot.message.received' } })
    const bad = await t.req('POST', '/api/workflows/from-steps', { token: u.token, body: { name: 'x', trigger_type: 'event', trigger_config: {}, steps: [] } })
    expect(bad.status).toBe(400)
    expect(bad.body.details['trigger_config.event']).toBeDefined()
  })

  test('event: creating, pausing and resuming a trigger take effect at the next event (the per-owner lookup is never stale)', async () => {
    const owner = await t.user()
    const ping = (n: number) => t.k.events.publish('bot.message.received', { bot_id: 'bt_y', conversation_id: 'bconv_y', message_id: `bmsg_${n}`, platform: 'telegram', platform_chat_id: '1', platform_user_id: '2', user_name: 'Ada', text: String(n) }, { ownerId: owner.id })
    const runs = async (id: string) => (await t.req('GET', `/api/workflows/${id}/executions`, { token: owner.token })).body as any[]
    ping(0) // looked up while the owner has no event workflow
    const made = await t.req('POST', '/api/workflows/from-steps', { token: owner.token, body: {
      name: 'On deploy', trigger_type: 'event', status: 'active', trigger_config: { event: 'bot.message.received' }, steps: [{ id: 'n', type: 'transform', template: '{{ input.text }}' }] } })
    expect(made.status).toBe(201)
    const id = made.body.id
    ping(1)
    await until(async () => (await runs(id)).length === 1)
    await t.req('PATCH', `/api/workflows/${id}`, { token: owner.token, body: { status: 'paused' } })
    ping(2)
    await t.req('PATCH', `/api/workflows/${id}`, { token: owner.token, body: { status: 'active' } })
    ping(3)
    await until(async () => (await runs(id)).length === 2)
    await Bun.sleep(50)
    expect((await runs(id)).map((e) => e.input_data.text).sort()).toEqual(['1', '3'])
  })
})

describe('scopes and validation', () => {
  test('a read-only token can list but not write or run', async () => {
    const tok = await t.req('POST', '/api/tokens', { token: u.token, body: { name: 'ro', scopes: ['workflows.read'] } })
    expect(tok.status).toBe(201)
    const key = tok.body.key
    expect((await t.req('GET', '/api/workflows', { token: key })).status).toBe(200)
    const w = await save({ steps: [] })
    expect((await t.req('POST', `/api/workflows/${w.id}/execute`, { token: key, body: {} })).status).toBe(403)
    expect((await t.req('PUT', `/api/workflows/${w.id}`, { token: key, body: { name: 'x' } })).status).toBe(403)
    expect((await t.req('GET', '/api/workflows')).status).toBe(401)
  })

  test('fields round-trip; bad status and trigger are 400; a workspace token sees only its workspace', async () => {
    const w = await save({ description: 'd', is_template: true, variables: { a: 1 }, workflow_metadata: { ui: { x: 1 } }, trigger_type: 'manual', steps: [] })
    expect(w).toMatchObject({ description: 'd', is_template: true, variables: { a: 1 }, workflow_metadata: { ui: { x: 1 } }, trigger_type: 'manual', status: 'draft', workspace_id: null })
    const p = await t.req('PATCH', `/api/workflows/${w.id}`, { token: u.token, body: { is_template: false, status: 'active', description: 'e' } })
    expect(p.body).toMatchObject({ is_template: false, status: 'active', description: 'e', version: 1 })
    expect((await t.req('PATCH', `/api/workflows/${w.id}`, { token: u.token, body: { status: 'running' } })).body.details.status).toMatch(/draft, active, paused, archived/)
    expect((await t.req('PATCH', `/api/workflows/${w.id}`, { token: u.token, body: { trigger_type: 'cron' } })).status).toBe(400)
    await t.req('PATCH', `/api/workflows/${w.id}`, { token: u.token, body: { status: 'archived' } })
    expect((await t.req('POST', `/api/workflows/${w.id}/execute`, { token: u.token, body: {} })).status).toBe(409)
    const inWs = await save({ workspace_id: u.ws, steps: [] })
    const tok = await t.req('POST', '/api/tokens', { token: u.token, body: { name: 'ws', type: 'workspace', workspace_id: u.ws, scopes: ['workflows.read'] } })
    expect(tok.status).toBe(201)
    const seen = (await t.req('GET', '/api/workflows', { token: tok.body.key })).body.map((x: any) => x.id)
    expect(seen).toContain(inWs.id)
    expect(seen).not.toContain(w.id)
    expect((await t.req('GET', `/api/workflows/${w.id}`, { token: tok.body.key })).status).toBe(404)
  })

  test('invalid steps are refused with the field named', async () => {
    const cases: Array<[unknown[], string, RegExp]> = [
      [[{ id: 'a', type: 'tool', tool: 'nope_tool' }], 'steps[0].tool', /unknown tool "nope_tool"/],
      [[{ id: 'a', type: 'condition', condition: { left: 1, operator: '==', right: 1 }, on_true: 'ghost' }], 'steps[0].on_true', /must be the id/],
      [[{ id: 'a', type: 'transform', expression: 'input.(' }], 'steps[0].expression', /Invalid expression/],
      [[{ id: 'a', type: 'delay', duration: 'soon' }], 'steps[0].duration', /must look like/],
      [[{ id: 'a', type: 'transform', template: 1, retry: { max_attempts: 50 } }], 'steps[0].retry.max_attempts', /from 1 to 10/],
      [[{ id: 'a', type: 'transform', template: 1 }, { id: 'a', type: 'transform', template: 2 }], 'steps[1].id', /duplicates/],
      [[{ id: 'a', type: 'transform', template: '{{ process.env.HOME }}' }], 'steps[0].template', /must start with input/],
      [[{ id: 'a', type: 'transform', template: 1, output_key: '__proto__' }], 'steps[0].output_key', /must be a name/],
    ]
    for (const [steps, field, msg] of cases) {
      const r = await t.req('POST', '/api/workflows/from-steps', { token: u.token, body: { name: 'bad', steps } })
      expect(r.status).toBe(400)
      expect(r.body.details[field]).toMatch(msg)
    }
  })
})

describe('retry schedules', () => {
  test('backoff: constant, exponential, capped, jittered within its band', () => {
    expect([2, 3, 4].map((n) => backoffMs({ backoff: 'constant', initial_ms: 100, jitter: false }, n))).toEqual([100, 100, 100])
    expect([2, 3, 4, 5, 6].map((n) => backoffMs({ backoff: 'exponential', initial_ms: 100, max_ms: 1000, jitter: false }, n))).toEqual([100, 200, 400, 800, 1000])
    expect(backoffMs({ initial_ms: 1000, jitter: 0.5 }, 2, () => 0)).toBe(500)
    expect(backoffMs({ initial_ms: 1000, jitter: 0.5 }, 2, () => 0.999)).toBe(1499)
    expect(parseDuration('1h30m')).toBe(5_400_000)
    expect(parseDuration('PT2M')).toBe(120_000)
    expect(parseDuration('P1D')).toBe(86_400_000)
    expect(parseDuration('soon')).toBeNull()
  })

  test('on an injected clock: retries wait exactly their back-off, persisted as wake_at', async () => {
    const clock = new ManualClock(Date.now())
    const c = testApp({ clock })
    try {
      const who = await userWithWorkspace(c)
      const w = await c.req('POST', '/api/workflows/from-steps', {
        token: who.token, body: { name: 'r', steps: [{ id: 'flaky', type: 'transform', expression: 'input.x', retry: { max_attempts: 3, backoff: 'exponential', initial_ms: 10_000, jitter: false } }] },
      })
      const a = await c.req('POST', `/api/workflows/${w.body.id}/execute`, { token: who.token, body: { mode: 'async' } })
      const status = async () => (await c.req('GET', a.body.status_url, { token: who.token })).body
      const waitFor = async (pred: (b: any) => boolean) => {
        for (let i = 0; i < 200; i++) { const b = await status(); if (pred(b)) return b; await Bun.sleep(5) }
        throw new Error('timeout')
      }
      const t0 = clock.now()
      let b = await waitFor((x) => x.status === 'waiting')
      expect(Date.parse(b.wake_at) - t0).toBe(10_000)
      clock.advance(9_999)
      await Bun.sleep(300)
      expect((await status()).steps.length).toBe(1) // not yet
      clock.advance(1)
      b = await waitFor((x) => x.steps?.length === 2 && x.status === 'waiting')
      expect(Date.parse(b.wake_at) - clock.now()).toBe(20_000)
      clock.advance(20_000)
      b = await waitFor((x) => x.status === 'failed')
      expect(b.steps.map((s: any) => s.attempt)).toEqual([1, 2, 3])
      const ev = (await c.req('GET', a.body.events_url, { token: who.token })).text
      expect(ev.match(/"will_retry":true/g)?.length).toBe(2)
      expect(ev).toContain('"retry_in_ms":20000')
    } finally { c.close() }
  })
})
