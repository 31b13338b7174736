/**
 * The operator console in a real browser (DESIGN §15): journeys an operator makes, against a real server
 * (the compiled binary in CI via CONSOLE_TEST_BIN, else the server from source), with the fake LLM,
 * the reference MCP server and a webhook receiver on 127.0.0.1. Skipped only when /usr/bin/chromium is absent.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Browser } from 'playwright-core'
import { startFakeLlm, type FakeLlm } from './fixtures/fake-llm'
import { startEverything, type RunningServer } from './fixtures/mcp-servers'
import { hasChromium, journey, launch, reloadUntil, signIn, startServer, type Server } from './console/browser-kit'

const ADMIN = { email: 'admin@example.com', password: 'console-password-1' }

let browser: Browser
let server: Server
let llm: FakeLlm
let mcp: RunningServer
let hook: ReturnType<typeof Bun.serve>
let hookCalls = 0
let hookFailing = true

/** Journey 1 creates the admin; journeys run alone (`-t`) create it through the API instead. */
async function ensureAdmin() {
  const s = await (await fetch(`${server.url}/api/auth/session`)).json()
  if (s.setup_required) await fetch(`${server.url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) })
}

describe.skipIf(!hasChromium)('console journeys in chromium', () => {
  beforeAll(async () => {
    llm = await startFakeLlm({ record: false })
    // The model calls an *_get_sum tool when one is offered and unanswered, else says "pong".
    llm.defaultReply = (r) => {
      const body = r.body as { messages?: { role: string; content?: unknown }[]; tools?: { function?: { name: string } }[] }
      const result = [...(body.messages ?? [])].reverse().find((m) => m.role === 'tool')
      if (result) return { text: `The tool said: ${String(result.content)}` }
      const asked = String([...(body.messages ?? [])].reverse().find((m) => m.role === 'user')?.content ?? '')
      if (asked.includes('hang')) return { hang: true } // a run that stays running until cancelled
      const sum = body.tools?.map((t) => t.function?.name ?? '').find((n) => n.endsWith('_get_sum'))
      return sum ? { toolCalls: [{ name: sum, arguments: { a: 2, b: 3 } }] } : { text: 'pong from the fake model' }
    }
    mcp = await startEverything('streamableHttp')
    // Fails until the journey fixes it: a delivery to retry.
    hook = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => { hookCalls++; return new Response(hookFailing ? 'down' : 'ok', { status: hookFailing ? 500 : 200 }) } })
    server = await startServer({ OPENAI_BASE_URL: llm.openaiBase, OPENAI_API_KEY: 'sk-test' })
    browser = await launch()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    server?.stop()
    llm?.close()
    mcp?.close()
    hook?.stop(true)
  })

  test('the first run creates the admin, who lands on the overview', async () => {
    await journey(browser, server.url, {}, async ({ page, base, axe }) => {
      const res = await page.goto(`${base}/`)
      expect(res!.headers()['content-security-policy']).toContain("default-src 'self'")
      await page.getByRole('heading', { name: 'Create the admin account' }).waitFor()
      await axe()
      await page.getByLabel('Email').fill(ADMIN.email)
      await page.getByLabel('Password', { exact: true }).fill(ADMIN.password)
      await page.getByLabel('Repeat the password').fill(ADMIN.password)
      await page.getByRole('button', { name: 'Create admin and sign in' }).click()
      await page.getByRole('heading', { name: 'Overview' }).waitFor()
      await page.getByText('Runs, 7 days').waitFor()
      // The fake LLM stands in for OpenAI: configured and reachable; Ollama is not running here.
      const openai = page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'openai', exact: true }) })
      await openai.getByText('reachable', { exact: true }).waitFor()
      await page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'ollama', exact: true }) }).getByText('unreachable').waitFor()
      await axe()
    })
  }, 30_000)

  test('a wrong password is refused with a message, and nothing signs in', async () => {
    await ensureAdmin()
    await journey(browser, server.url, { expectedFailures: ['POST /api/auth/login 401'] }, async ({ page, base, axe }) => {
      await page.goto(`${base}/`)
      await page.getByLabel('Email').fill(ADMIN.email)
      await page.getByLabel('Password', { exact: true }).fill('not-the-password')
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('alert').waitFor()
      expect(await page.getByRole('alert').textContent()).toMatch(/invalid|password/i)
      expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0)
      await axe()
    })
  }, 30_000)

  test('sign in, reload stays signed in, sign out returns to the sign-in screen', async () => {
    await ensureAdmin()
    await journey(browser, server.url, {}, async ({ page, base }) => {
      await signIn(page, base, ADMIN.email, ADMIN.password)
      await page.reload()
      await page.getByRole('button', { name: 'Sign out' }).waitFor()
      await page.getByRole('button', { name: 'Sign out' }).click()
      await page.getByRole('heading', { name: 'Sign in to Agentbase' }).waitFor()
      // The cookie session is gone on the server too.
      const me = await page.evaluate(async () => (await fetch('/api/auth/session')).json())
      expect(me.user).toBeNull()
    })
  }, 30_000)

  test('an API token is shown once, then only its prefix', async () => {
    await ensureAdmin()
    await journey(browser, server.url, {}, async ({ page, base, axe }) => {
      await signIn(page, base, ADMIN.email, ADMIN.password)
      await page.getByRole('link', { name: 'API tokens' }).click()
      await page.getByLabel('Name').fill('ci script')
      await page.getByLabel('Scopes').fill('endpoints.read')
      await page.getByRole('button', { name: 'Create token' }).click()
      const key = (await page.locator('[data-secret]').textContent())!
      expect(key).toStartWith('ab_pat_')
      await axe()
      // The key works against the API.
      const me = await fetch(`${base}/api/auth/me`, { headers: { authorization: `Bearer ${key}` } })
      expect(me.status).toBe(200)
      await page.getByRole('button', { name: 'I have saved it' }).click()
      expect(await page.locator('[data-secret]').count()).toBe(0)
      await page.reload()
      await page.getByRole('cell', { name: 'ci script', exact: true }).waitFor()
      expect(await page.content()).not.toContain(key)
      // Only the key's visible prefix is listed.
      const listed = (await page.getByRole('row').filter({ hasText: 'ci script' }).locator('code').textContent())!
      expect(listed).toEndWith('…')
      expect(key.startsWith(listed.slice(0, -1))).toBe(true)
      expect(listed.length).toBeLessThan(key.length)
    })
  }, 30_000)

  test('add an MCP server and see its tools; create an endpoint, test it, and watch a streamed run with a tool call', async () => {
    await ensureAdmin()
    await journey(browser, server.url, {}, async ({ page, base, axe }) => {
      await signIn(page, base, ADMIN.email, ADMIN.password)
      await page.getByRole('link', { name: 'Connections & MCP' }).click()
      const create = page.getByRole('button', { name: 'Create workspace' })
      if (await create.count()) await create.click()
      await page.getByRole('button', { name: 'Add MCP server' }).waitFor()
      await page.getByLabel('Name', { exact: true }).last().fill('everything')
      await page.getByLabel('URL', { exact: true }).fill(mcp.url)
      await page.getByRole('button', { name: 'Add MCP server' }).click()
      await page.getByText('connected').waitFor({ timeout: 20_000 })
      await page.getByRole('button', { name: /\d+ tools/ }).click()
      await page.getByText('everything_get_sum').waitFor()
      await axe()

      await page.getByRole('link', { name: 'Agent endpoints' }).click()
      await page.getByLabel('Name').fill('Adder')
      await page.getByLabel('System prompt').fill('Add numbers with your tools.')
      await page.getByLabel('Stream answers (SSE)').check()
      await page.getByRole('button', { name: 'Create endpoint' }).click()
      await page.getByRole('heading', { name: 'Adder' }).waitFor()
      const key = (await page.locator('[data-secret]').textContent())!
      expect(key).toStartWith('aek_')
      await page.getByLabel('Test input').fill('what is 2+3?')
      await page.getByRole('button', { name: 'Run test' }).click()
      await page.getByText('The tool said').first().waitFor()
      await page.getByRole('button', { name: 'Activate' }).click()
      await page.getByLabel('Input', { exact: true }).fill('what is 2+3?')
      await page.getByRole('button', { name: 'Call endpoint' }).click()
      await page.getByText('run.completed').first().waitFor()
      expect(await page.getByTestId('stream-text').textContent()).toContain('The tool said')
      expect(await page.getByText('everything_get_sum').count()).toBeGreaterThan(0)
      await axe()
      await page.getByRole('link', { name: 'open the run' }).click()
      await page.getByRole('heading', { name: /^Run run_/ }).waitFor()
      await page.getByRole('cell', { name: 'everything_get_sum' }).waitFor()
      await axe()
    })
  }, 60_000)

  test('activate a custom bot and talk to it', async () => {
    await ensureAdmin()
    await journey(browser, server.url, {}, async ({ page, base, axe }) => {
      await signIn(page, base, ADMIN.email, ADMIN.password)
      await page.getByRole('link', { name: 'Bots' }).click()
      const create = page.getByRole('button', { name: 'Create workspace' })
      if (await create.count()) await create.click()
      await page.getByRole('button', { name: 'Create bot' }).waitFor()
      await page.getByLabel('Name').fill('Helper')
      await page.getByLabel('System prompt').fill('Be brief.')
      await page.getByRole('button', { name: 'Create bot' }).click()
      await page.getByRole('heading', { name: 'Helper' }).waitFor()
      await page.getByRole('button', { name: 'Activate' }).click()
      await page.getByText('Activated.').waitFor()
      // The badge follows the status refetch that comes after the notice: wait for it (a bare count races it).
      await page.locator('.badge', { hasText: 'active' }).first().waitFor()
      await page.getByLabel('Message').fill('hello')
      await page.getByRole('button', { name: 'Send' }).click()
      // The bot's workspace may have the MCP server from another journey: either answer is the model's.
      await page.locator('.result .answer').waitFor()
      expect(await page.locator('.result .answer').textContent()).toMatch(/pong from the fake model|The tool said/)
      // The test conversation is listed under the bot's conversations and opens to its messages.
      await page.getByRole('region', { name: 'Conversations' }).getByRole('button').first().click()
      await page.getByRole('list', { name: 'Messages' }).getByText('hello').waitFor()
      await axe()
      await page.getByRole('button', { name: 'Pause' }).click()
      await page.getByRole('button', { name: 'Activate' }).waitFor()
    })
  }, 30_000)

  test('a failed webhook delivery is listed first and retried', async () => {
    await ensureAdmin()
    await journey(browser, server.url, {}, async ({ page, base, axe }) => {
      await signIn(page, base, ADMIN.email, ADMIN.password)
      await page.getByRole('link', { name: 'Webhooks' }).click()
      await page.getByLabel('URL', { exact: true }).fill(`http://127.0.0.1:${hook.port}/hook`)
      await page.getByLabel('run.completed', { exact: true }).check()
      await page.getByRole('button', { name: 'Subscribe' }).click()
      await page.getByText('Signing secret').waitFor()
      await page.getByRole('link', { name: `http://127.0.0.1:${hook.port}/hook` }).click()
      await page.getByRole('button', { name: 'Send test event' }).click()
      // The receiver answers 500: the delivery shows the failure and a retry.
      await reloadUntil(page, 'HTTP 500')
      await axe()
      hookFailing = false
      await page.getByRole('button', { name: /^Retry delivery/ }).first().click()
      await reloadUntil(page, /^success$/)
      expect(hookCalls).toBeGreaterThanOrEqual(2)
    })
  }, 30_000)

  test('runs: the live list (a new run appears without reload), a running run cancelled, a finished one re-run', async () => {
    await ensureAdmin()
    const login = await (await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) })).json()
    const call = async (method: string, path: string, body?: unknown, token = login.token) => {
      const r = await fetch(`${server.url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) })
      return r.json()
    }
    const ws = (await call('POST', '/api/workspaces', { name: 'runs' })).workspace.id
    const created = await call('POST', '/api/agent-endpoints', { name: 'Queue', workspace_id: ws, system_prompt: 'Answer.', llm_provider: 'openai', llm_model: 'gpt-4o-mini', async_mode: true })
    await call('POST', `/api/agent-endpoints/${created.endpoint.id}/activate`)
    const done = await call('POST', `/api/run/${created.endpoint.slug}`, { input: 'hello' }, created.api_key)
    const hanging = await call('POST', `/api/run/${created.endpoint.slug}`, { input: 'hang on' }, created.api_key)
    await journey(browser, server.url, {}, async ({ page, base, axe }) => {
      await signIn(page, base, ADMIN.email, ADMIN.password)
      // The list comes from GET /api/runs and stays current over GET /api/runs/live (SSE), without reloading.
      const feed = page.waitForResponse((r) => r.url().includes('/api/runs/live'))
      await page.getByRole('link', { name: 'Runs', exact: true }).click()
      await page.getByRole('link', { name: done.run_id }).waitFor()
      expect((await feed).headers()['content-type']).toContain('text/event-stream')
      const fresh = await call('POST', `/api/run/${created.endpoint.slug}`, { input: 'live please' }, created.api_key)
      const freshRow = page.getByRole('row').filter({ has: page.getByRole('link', { name: fresh.run_id }) })
      await freshRow.locator('.badge', { hasText: 'success' }).waitFor()
      await page.getByLabel('Status').selectOption('running')
      await page.getByRole('link', { name: hanging.run_id }).waitFor()
      await axe()
      await page.getByRole('link', { name: hanging.run_id }).click()
      await page.getByRole('button', { name: 'Cancel run' }).click()
      await page.locator('.badge', { hasText: 'cancelled' }).first().waitFor()
      await page.goto(`${base}/#/runs/${done.run_id}`)
      await page.locator('.badge', { hasText: 'success' }).first().waitFor()
      // The recorded events are replayed, from the first to the final one.
      await page.locator('.events').getByText('run.started').waitFor()
      await page.locator('.events').getByText('run.completed').waitFor()
      await page.getByRole('button', { name: 'Re-run as a test' }).click()
      await page.waitForURL((u) => !u.hash.includes(done.run_id))
      await page.locator('.badge', { hasText: 'test' }).first().waitFor()
      await axe()
    })
  }, 30_000)

  test('pages whose API this server lacks say so cleanly', async () => {
    await ensureAdmin()
    const doc = await (await fetch(`${server.url}/swagger/json`)).json()
    const pages: [string, string, string][] = [['chat', 'Chat', '/api/chat/conversations'], ['workflows', 'Workflows', '/api/workflows'], ['schedules', 'Schedules', '/api/agents'], ['templates', 'Templates', '/api/templates']]
    await journey(browser, server.url, {}, async ({ page, base, axe }) => {
      await signIn(page, base, ADMIN.email, ADMIN.password)
      for (const [path, title, api] of pages) {
        await page.goto(`${base}/#/${path}`)
        await page.getByRole('heading', { name: title, exact: true }).waitFor()
        if (!doc.paths[api]) await page.getByText('is not available on this server').waitFor()
        await axe()
      }
    })
  }, 30_000)

  test('keyboard only: skip link, navigation and a form, and readable at phone width', async () => {
    await ensureAdmin()
    await journey(browser, server.url, { viewport: { width: 375, height: 740 } }, async ({ page, base, axe }) => {
      await signIn(page, base, ADMIN.email, ADMIN.password)
      // No horizontal scrolling of the page itself at 375 px.
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true)
      await page.keyboard.press('Tab')
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content')
      // Tab to the "API tokens" link and follow it with Enter.
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab')
        if ((await page.evaluate(() => document.activeElement?.textContent)) === 'API tokens') break
      }
      await page.keyboard.press('Enter')
      await page.getByRole('heading', { name: 'API tokens' }).waitFor()
      // Focus moves to the new page's heading in an effect after the page is painted: wait for it, not a frame.
      await page.waitForFunction(() => document.activeElement?.id === 'page-title', null, { timeout: 5000 })
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('page-title')
      await page.keyboard.press('Tab')
      await page.keyboard.type('from the keyboard')
      await page.keyboard.press('Enter')
      await page.locator('[data-secret]').waitFor()
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true)
      await axe()
    })
  }, 30_000)
})
