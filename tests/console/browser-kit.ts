/**
 * Browser journeys against a real server: Debian's chromium driven by playwright-core (no browser download),
 * kept off the network by its flags. Every journey runs in a fresh context and must end with no request to
 * another host than 127.0.0.1, no console error, and no serious accessibility violation (axe-core in the page).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { Subprocess } from 'bun'
import { listeningUrl } from '../fixtures/server-process'

export const CHROMIUM = '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')

export const launch = () => chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS })

export interface Server { url: string; dir: string; proc: Subprocess; stop(): void }

/**
 * The server under test: the compiled binary when CONSOLE_TEST_BIN names it (CI), else `bun src/main.ts
 * serve` from source. Fresh data dir, free port, loopback-only outbound, the given env (fake LLM URLs).
 */
export async function startServer(env: Record<string, string>): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'agentbase-console-'))
  const bin = process.env.CONSOLE_TEST_BIN
  const cmd = bin ? [bin, 'serve'] : [join(import.meta.dir, '../../node_modules/.bin/bun'), 'src/main.ts', 'serve']
  const proc = Bun.spawn(cmd, {
    cwd: bin ? dir : join(import.meta.dir, '../..'),
    env: {
      ...process.env, AGENTBASE_DATA_DIR: join(dir, 'data'), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info',
      AGENTBASE_OUTBOUND_ALLOW: '127.0.0.1,localhost', AGENTBASE_PASSWORD_MEMORY_KIB: '1024', AGENTBASE_SYNC: 'normal',
      // Keys from the caller's environment would make the Overview probe public providers: none in tests.
      OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '', GEMINI_API_KEY: '', GROQ_API_KEY: '', WORKERS_AI_API_KEY: '', ...env,
    },
    stdout: 'pipe', stderr: 'inherit',
  })
  let listening: string
  try {
    listening = await listeningUrl(proc)
  } catch (err) {
    proc.kill(9)
    throw err
  }
  const url = listening.replace(/\/$/, '').replace('0.0.0.0', '127.0.0.1').replace('localhost', '127.0.0.1')
  return { url, dir, proc, stop: () => { proc.kill(9); rmSync(dir, { recursive: true, force: true }) } }
}

export interface JourneyOptions {
  /** API answers the journey provokes on purpose (e.g. "POST /api/auth/login 401"): Chromium logs them as errors. */
  expectedFailures?: string[]
  viewport?: { width: number; height: number }
}

export interface Journey { page: Page; base: string; axe(): Promise<void> }

/** Runs one journey in a fresh browser context and checks what must hold for every journey. */
export async function journey(browser: Browser, base: string, opts: JourneyOptions, fn: (j: Journey) => Promise<void>) {
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 800 } })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  const requests: string[] = []
  const failures: string[] = []
  const errors: string[] = []
  context.on('request', (r) => { requests.push(r.url()) })
  page.on('response', (r) => { if (r.status() >= 400) failures.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`) })
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`${m.text()} @ ${m.location().url}`) })
  page.on('pageerror', (e) => { errors.push(`page error: ${e.message}`) })
  page.on('dialog', (d) => { d.accept().catch(() => {}) })
  const axe = async () => {
    await page.evaluate(axeSource)
    const violations = await page.evaluate(async () => {
      const r = await (window as any).axe.run(document, { resultTypes: ['violations'] })
      return r.violations.filter((v: any) => v.impact === 'serious' || v.impact === 'critical').map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`)
    })
    if (violations.length) throw new Error(`accessibility violations on ${page.url()}:\n${violations.join('\n')}`)
  }
  try {
    await fn({ page, base, axe })
  } catch (err) {
    // Say what the page showed: a failed journey is otherwise a bare timeout.
    const shown = await page.locator('body').innerText({ timeout: 1000 }).catch(() => '(page gone)')
    throw new Error(`${(err as Error).message}\n--- page ${page.url()} showed:\n${shown.slice(0, 1500)}\n--- console: ${errors.join(' | ')}`)
  } finally {
    await context.close()
  }
  const foreign = requests.filter((u) => !u.startsWith('data:') && new URL(u).hostname !== '127.0.0.1')
  if (foreign.length) throw new Error(`requests left 127.0.0.1: ${foreign.join(', ')}`)
  const expected = opts.expectedFailures ?? []
  const unexpectedFailures = failures.filter((f) => !expected.includes(f))
  if (unexpectedFailures.length) throw new Error(`unexpected API failures: ${unexpectedFailures.join(', ')}`)
  // Chromium reports each failed response as a console error; those were checked just above.
  const realErrors = errors.filter((e) => !(e.startsWith('Failed to load resource: the server responded with a status of') && failures.length))
  if (realErrors.length) throw new Error(`console errors: ${realErrors.join('\n')}`)
}

/** Signs in through the form. */
export async function signIn(page: Page, base: string, email: string, password: string) {
  await page.goto(`${base}/`)
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('button', { name: 'Sign out' }).waitFor()
}

/** Reloads until `text` shows (state that changes on the server, e.g. a delivery's status). */
export async function reloadUntil(page: Page, text: string | RegExp, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await page.getByText(text).count()) return
    if (Date.now() > deadline) throw new Error(`"${text}" never showed`)
    await page.waitForTimeout(250)
    await page.reload()
    await page.getByRole('heading').first().waitFor()
  }
}
