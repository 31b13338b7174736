/** /api/templates: the catalog, filters, `use` (missing connections first, dry runs), and every template executed against the fake platforms. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { testApp, userWithWorkspace, type TestApp, type Who } from './helpers'
import { startFakeLlm, type FakeLlm, type FakeRequest } from './fixtures/fake-llm'
import { startFakeToolApis, type FakeToolApis } from './fixtures/fake-tool-apis'

let t: TestApp
let u: Who
let llm: FakeLlm
let fake: FakeToolApis
let feed: ReturnType<typeof Bun.serve>
let feedUrl = ''

const ANSWERS: Array<[string, unknown]> = [
  ['Classify this support message', { category: 'billing', urgency: 'high', summary: 'Charged twice, account locked' }],
  ['Score this B2B lead', { score: 85, reason: 'Enterprise demo request' }],
  ['Triage this bug report', { labels: ['bug'], priority: 'critical' }],
  ['Extract the invoice fields', { vendor: 'ACME Corp', invoice_number: 'INV-2041', total: 2450, currency: 'EUR', due_date: '2026-04-30' }],
  ['Does this message break them', { flagged: true, reason: 'spam' }],
]
const answer = (r: FakeRequest) => {
  const last = String(r.body.messages.at(-1).content)
  const hit = ANSWERS.find(([marker]) => last.includes(marker))
  return { text: hit ? JSON.stringify(hit[1]) : 'A short generated text.' }
}

beforeAll(async () => {
  llm = await startFakeLlm()
  llm.defaultReply = answer
  fake = await startFakeToolApis()
  feed = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (req) => (req.url.endsWith('/down') ? new Response('unavailable', { status: 503 }) : Response.json({ items: ['Launch', 'Outage fixed'] })) })
  feedUrl = `http://127.0.0.1:${feed.port}`
  t = testApp({ env: { ...fake.env, OPENAI_BASE_URL: llm.openaiBase, OPENAI_API_KEY: 'sk-test' } })
  u = await userWithWorkspace(t)
})
afterAll(() => { t.close(); llm.close(); fake.close(); feed.stop(true) })

const VARIABLES: Record<string, Record<string, unknown>> = {
  tpl_support_triage: { escalation_channel: '#support-urgent' },
  tpl_lead_enrichment: { enrichment_api_url: `PLACEHOLDER/companies`, sales_channel: '#sales' },
  tpl_daily_digest_slack: { feed_url: 'PLACEHOLDER/today.json', channel: '#daily' },
  tpl_github_issue_triage: { owner: 'acme', repo: 'api', alerts_channel: '#eng-alerts' },
  tpl_invoice_extraction: { approval_channel: '#finance' },
  tpl_telegram_incident_alert: { chat_id: '-1001234567890' },
  tpl_discord_release_notes: { channel_id: '123456789012345678' },
  tpl_whatsapp_order_confirmation: { shop_name: 'Acme Store' },
  tpl_github_open_issues_report: { owner: 'acme', repo: 'api', channel: '#eng' },
  tpl_standup_reminder: { channel: '#team', timezone: 'Europe/Berlin' },
  tpl_telegram_broadcast: {},
  tpl_uptime_check: { url: 'PLACEHOLDER/down', channel: '#ops' },
  tpl_content_moderation: { mod_channel_id: '123456789012345678' },
}
const vars = (id: string) => Object.fromEntries(Object.entries(VARIABLES[id]).map(([k, v]) => [k, typeof v === 'string' ? v.replace('PLACEHOLDER', feedUrl) : v]))

/** The platform call each template's sample input must cause. */
const EFFECT: Record<string, [FakeToolApis['requests'][number]['platform'], string]> = {
  tpl_support_triage: ['slack', 'chat.postMessage'], tpl_lead_enrichment: ['slack', 'chat.postMessage'], tpl_daily_digest_slack: ['slack', 'chat.postMessage'],
  tpl_github_issue_triage: ['github', 'createIssue'], tpl_invoice_extraction: ['slack', 'chat.postMessage'], tpl_telegram_incident_alert: ['telegram', 'sendMessage'],
  tpl_discord_release_notes: ['discord', 'createMessage'], tpl_whatsapp_order_confirmation: ['whatsapp', 'sendMessage'], tpl_github_open_issues_report: ['slack', 'chat.postMessage'],
  tpl_standup_reminder: ['slack', 'chat.postMessage'], tpl_telegram_broadcast: ['telegram', 'sendMessage'], tpl_uptime_check: ['slack', 'chat.postMessage'],
  tpl_content_moderation: ['discord', 'createMessage'],
}

describe('catalog', () => {
  test('at least 12 templates, each complete, in the envelope', async () => {
    const r = await t.req('GET', '/api/templates')
    expect(r.status).toBe(200)
    expect(r.body.success).toBe(true)
    expect(typeof r.body.message).toBe('string')
    expect(r.body.data.length).toBeGreaterThanOrEqual(12)
    for (const tpl of r.body.data) {
      expect(tpl).toMatchObject({ schema_version: 1 })
      for (const f of ['id', 'name', 'description', 'category', 'difficulty', 'required_platforms', 'variables', 'workflow', 'input_example']) expect(tpl).toHaveProperty(f)
      expect(Object.keys(EFFECT)).toContain(tpl.id)
    }
    expect((await t.req('GET', '/api/workflows/templates')).body.length).toBe(r.body.data.length)
  })

  test('filters: category, difficulty, search, connection; categories; one template; 404', async () => {
    const by = async (q: string) => (await t.req('GET', `/api/templates?${q}`)).body.data.map((x: any) => x.id)
    expect(await by('category=finance')).toEqual(['tpl_invoice_extraction'])
    expect((await by('difficulty=advanced'))).toEqual(['tpl_content_moderation'])
    expect(await by('search=whatsapp')).toEqual(['tpl_whatsapp_order_confirmation'])
    expect(await by('connection=github')).toEqual(['tpl_github_issue_triage', 'tpl_github_open_issues_report'])
    const cats = (await t.req('GET', '/api/templates/categories')).body
    expect(cats.success).toBe(true)
    expect(cats.data.find((c: any) => c.name === 'engineering').count).toBe(2)
    expect((await t.req('GET', '/api/templates/tpl_uptime_check')).body.data.name).toBe('Uptime check with Slack alert')
    const missing = await t.req('GET', '/api/templates/tpl_nope')
    expect(missing.status).toBe(404)
  })
})

describe('use', () => {
  test('without the connections it answers what is missing, by platform, and creates nothing', async () => {
    const before = (await t.req('GET', '/api/workflows', { token: u.token })).body.length
    const r = await t.req('POST', '/api/templates/tpl_github_issue_triage/use', { token: u.token, body: { variables: vars('tpl_github_issue_triage') } })
    expect(r.status).toBe(409)
    expect(r.body.success).toBe(false)
    expect(r.body.data.missing_connections.map((m: any) => m.platform)).toEqual(['github', 'slack'])
    expect(r.body.data.missing_tools).toEqual(['github_create_issue', 'slack_send_message'])
    expect((await t.req('GET', '/api/workflows', { token: u.token })).body.length).toBe(before)
    expect((await t.req('POST', '/api/templates/tpl_github_issue_triage/use', { body: {} })).status).toBe(401)
  })

  test('required variables are checked', async () => {
    const r = await t.req('POST', '/api/templates/tpl_uptime_check/use', { token: u.token, body: { variables: { channel: '#ops' } } })
    expect(r.status).toBe(400)
    expect(r.body.details['variables.url']).toMatch(/is required/)
  })

  test('connect the platforms', async () => {
    const configs: Record<string, unknown> = {
      slack: { bot_token: 'xoxb-good' }, telegram: { bot_token: '123:good' }, discord: { bot_token: 'discord-good' },
      whatsapp: { access_token: 'wa-good', phone_number_id: '1234567890' }, github: { token: 'ghp_good' },
    }
    for (const [platform, config] of Object.entries(configs)) {
      const r = await t.req('POST', '/api/connections', { token: u.token, body: { platform, name: `My ${platform}`, config } })
      expect(r.status).toBe(201)
    }
  })

  test('dry run: no side effects, the calls that would be made', async () => {
    const before = fake.requests.length
    const r = await t.req('POST', '/api/templates/tpl_support_triage/use?dry_run=true', { token: u.token, body: { variables: vars('tpl_support_triage') } })
    expect(r.status).toBe(200)
    expect(r.body.data.status).toBe('success')
    const escalate = r.body.data.steps.find((s: any) => s.step_id === 'escalate')
    expect(escalate).toMatchObject({ simulated: true, output: { dry_run: true, would_call: 'slack_send_message', parameters: { channel: '#support-urgent' } } })
    expect(escalate.output.parameters.text).toContain('Charged twice')
    expect(fake.requests.length).toBe(before)
    // Read-only tools run for real in a dry run.
    const report = await t.req('POST', '/api/templates/tpl_github_open_issues_report/use?dry_run=true', { token: u.token, body: { variables: vars('tpl_github_open_issues_report') } })
    expect(report.body.data.steps.find((s: any) => s.step_id === 'issues').simulated).toBe(false)
    expect(fake.of('github', 'listIssues').length).toBe(1)
    expect(fake.of('slack', 'chat.postMessage').length).toBe(0)
  })

  test.each(Object.keys(EFFECT))('%s: used, then executed against the fake platforms', async (id) => {
    const made = await t.req('POST', `/api/templates/${id}/use`, { token: u.token, body: { variables: vars(id), status: 'active' } })
    expect(made.status).toBe(201)
    expect(made.body.success).toBe(true)
    const wf = made.body.data
    expect(wf.workflow_metadata.template_id).toBe(id)
    const [platform, method] = EFFECT[id]
    const before = fake.of(platform, method).length
    const ex = await t.req('POST', `/api/workflows/${wf.id}/execute`, { token: u.token, body: { input_data: wf.workflow_metadata.input_example } })
    expect(ex.body.error).toBeNull()
    expect(ex.body.status).toBe('success')
    expect(fake.of(platform, method).length).toBeGreaterThan(before)
  }, 30_000) // the uptime check's real back-off (3 attempts) takes a few seconds
})
