/**
 * Console journeys for the pages whose APIs come from other branches (chat, workflows, schedules, templates).
 * Each is skipped when the server under test does not document its API (GET /swagger/json).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Browser } from 'playwright-core'
import { startFakeLlm, type FakeLlm } from './fixtures/fake-llm'
import { startEverything, type RunningServer } from './fixtures/mcp-servers'
import { hasChromium, journey, launch, reloadUntil, signIn, startServer, type Server } from './console/browser-kit'

const ADMIN = { email: 'ops@example.com', password: 'console-password-2' }
let browser: Browser
let server: Server
let llm: FakeLlm
let mcp: RunningServer
let paths: Record<string, unknown> = {}
let token = ''
let ws = ''

const apiCall = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(`${server.url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) })
  const json = await r.json().catch(() => null)
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`)
  return json
}
const has = (path: string) => !!paths[path]

describe.skipIf(!hasChromium)('console journeys for chat, workflows, schedules, templates', () => {
  beforeAll(async () => {
    llm = await startFakeLlm({ record: false })
    // The model: asked for an image or a sum, it calls the MCP tool offered for it; then reports the result.
    llm.defaultReply = (r) => {
      const body = r.body as { messages?: { role: string; content?: unknown }[]; tools?: { function?: { name: string } }[] }
      const messages = body.messages ?? []
      const last = messages[messages.length - 1]
      if (last?.role === 'tool') return { text: `The tool said: ${String(last.content).slice(0, 80)}` }
      const names = body.tools?.map((t) => t.function?.name ?? '') ?? []
      const asked = String(messages.filter((m) => m.role === 'user').at(-1)?.content ?? '')
      const image = names.find((n) => n.endsWith('_get_tiny_image'))
      if (image && /image/i.test(asked)) return { toolCalls: [{ name: image, arguments: {} }] }
      const sum = names.find((n) => n.endsWith('_get_sum'))
      if (sum && /sum|\+/.test(asked)) return { toolCalls: [{ name: sum, arguments: { a: 2, b: 3 } }] }
      return { text: 'pong from the fake model' }
    }
    mcp = await startEverything('streamableHttp')
    server = await startServer({ OPENAI_BASE_URL: llm.openaiBase, OPENAI_API_KEY: 'sk-test' })
    paths = (await (await fetch(`${server.url}/swagger/json`)).json()).paths
    await fetch(`${server.url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) })
    token = (await (await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) })).json()).token
    ws = (await apiCall('POST', '/api/workspaces', { name: 'Default' })).workspace.id
    await apiCall('POST', `/api/workspaces/${ws}/mcp-servers`, { name: 'everything', transport: 'http', url: mcp.url })
    browser = await launch()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    server?.stop()
    llm?.close()
    mcp?.close()
  })

  test('chat: a streamed answer with a tool call, and its attachment downloaded', async () => {
    if (!has('/api/chat/conversations')) return
    await journey(browser, server.url, {}, async ({ page, base, axe }) => {
      await signIn(page, base, ADMIN.email, ADMIN.password)
      await page.getByRole('link', { name: 'Chat' }).click()
      await page.getByRole('button', { name: 'New conversation' }).click()
      await page.getByLabel('Message').fill('what is the sum of 2+3?')
      await page.getByRole('button', { name: 'Send' }).click()
      await page.locator('.msg.assistant', { hasText: 'The tool said' }).first().waitFor({ timeout: 20_000 })
      await page.locator('.msg.tool').first().waitFor()
      await axe()
      await page.getByLabel('Message').fill('show me a tiny image')
      await page.getByRole('button', { name: 'Send' }).click()
      const link = page.getByRole('link', { name: /^Download / }).first()
      await link.waitFor({ timeout: 20_000 })
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()])
      const file = await download.path()
      expect((await Bun.file(file!).arrayBuffer()).byteLength).toBeGreaterThan(10)
      await axe()
    })
  }, 60_000)

  test('templates: using one whose connection is missing says what to add', async () => {
    if (!has('/api/templates')) return
    await journey(browser, server.url, { expectedFailures: ['POST /api/templates/tpl_support_triage/use 409'] }, async ({ page, base, axe }) => {
      await signIn(page, base, ADMIN.email, ADMIN.password)
      await page.getByRole('link', { name: 'Templates' }).click()
      await page.getByRole('button', { name: 'Use Support ticket triage' }).click()
      for (const input of await page.locator('form input[required]').all()) if (!(await input.inputValue())) await input.fill('x')
      await page.getByRole('button', { name: 'Create workflow' }).click()
      await page.getByText(/needs connections/i).waitFor()
      await page.getByText('slack', { exact: true }).first().waitFor()
      await axe()
    })
  }, 30_000)

  test('workflows: execute with input and open a step', async () => {
    if (!has('/api/workflows/from-steps')) return
    const wf = await apiCall('POST', '/api/workflows/from-steps', {
      name: 'Greeter', workspace_id: ws,
      steps: [{ id: 'greet', name: 'Greet', type: 'transform', template: { greeting: 'Hello {{ input.name }}' } }],
    })
    const id = wf.id ?? wf.workflow?.id ?? wf.data?.id
    // A second version: the page shows the current steps and the first version's on request.
    await apiCall('PUT', `/api/workflows/${id}`, { steps: [{ id: 'greet', name: 'Greet', type: 'transform', template: { greeting: 'Hello {{ input.name }}' } }, { id: 'shout', type: 'transform', template: { loud: '{{ steps.greet.greeting }}!' } }] })
    await journey(browser, server.url, {}, async ({ page, base, axe }) => {
      await signIn(page, base, ADMIN.email, ADMIN.password)
      await page.getByRole('link', { name: 'Workflows' }).click()
      await page.getByRole('link', { name: 'Greeter' }).click()
      await page.getByText('shout').first().waitFor()
      await page.getByLabel('Version').selectOption({ index: 1 })
      expect(await page.locator('.steps li', { hasText: 'shout' }).count()).toBe(0)
      await page.getByLabel('Input (JSON)').fill('{"name": "Ada"}')
      await page.getByRole('button', { name: 'Execute' }).click()
      await page.getByRole('button', { name: /^greet/ }).first().click()
      await page.getByText('Hello Ada').first().waitFor()
      await axe()
    })
    expect(id).toStartWith('wf_')
  }, 30_000)

  test('schedules: next runs shown, pause and resume', async () => {
    if (!has('/api/agents/schedule')) return
    const wf = await apiCall('POST', '/api/workflows/from-steps', { name: 'Nightly', workspace_id: ws, steps: [{ id: 'noop', type: 'transform', template: { ok: true } }] })
    const agent = await apiCall('POST', '/api/agents', { workflow_id: wf.id ?? wf.workflow?.id })
    await apiCall('POST', '/api/agents/schedule', { agent_id: agent.agent_id, schedule_config: { type: 'cron', cron: '0 3 * * *', timezone: 'Europe/Berlin' } })
    await journey(browser, server.url, {}, async ({ page, base, axe }) => {
      await signIn(page, base, ADMIN.email, ADMIN.password)
      await page.getByRole('link', { name: 'Schedules' }).click()
      await page.getByText('Next runs (Europe/Berlin)').waitFor()
      expect(await page.locator('.next-runs li').count()).toBe(5)
      await axe()
      await page.getByRole('button', { name: 'Pause' }).click()
      await page.getByRole('button', { name: 'Resume' }).waitFor()
      await page.getByRole('button', { name: 'Resume' }).click()
      await page.getByRole('button', { name: 'Pause' }).waitFor()
      await reloadUntil(page, 'Next runs (Europe/Berlin)')
    })
  }, 30_000)
})
