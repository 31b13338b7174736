/**
 * For bench/n8n.ts: n8n started from an existing install (BENCH_N8N_DIR) in a fresh user folder, with the
 * 10 steps of bench/_workflow-steps.ts as Edit Fields (Set) nodes behind a Webhook trigger that answers with
 * the last node's data. Imported and published with n8n's CLI, then `n8n start` pinned to a core.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Database } from 'bun:sqlite'
import { freePort } from '../tests/fixtures/server-process'
import { track, untrack } from './_wrk'

export const INSTALL = `n8n is not installed. Install it outside the project (about 2,000 packages) and point BENCH_N8N_DIR at it:
  mkdir -p /opt/n8n && cd /opt/n8n
  echo '{ "private": true, "dependencies": { "n8n": "2.8.4" }, "overrides": { "xlsx": "0.18.5" } }' > package.json
  npm install --no-audit --no-fund --ignore-scripts     # its pinned xlsx tarball lives outside npm: the override
  cd node_modules/sqlite3 && node "$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js" rebuild --nodedir=/usr
    # the native SQLite module (install scripts were skipped; --nodedir: where include/node/ lives, /usr for
    # Debian's nodejs; without --nodedir node-gyp downloads the headers)
Then: BENCH_N8N_DIR=/opt/n8n npx bun bench/n8n.ts`

const WEBHOOK_PATH = 'agentbase-bench'
const WORKFLOW_ID = 'agentbaseBench01'

type Value = 'string' | 'number' | 'boolean' | 'array' | 'object'
const set = (name: string, fields: [string, string, Value][], x: number) => ({
  id: crypto.randomUUID(), name, type: 'n8n-nodes-base.set', typeVersion: 3.4, position: [x, 0],
  parameters: { assignments: { assignments: fields.map(([field, value, type]) => ({ id: crypto.randomUUID(), name: field, value, type })) }, options: {} },
})

/**
 * The same computations as STEPS, step for step. A Set node outputs an object, so a step whose value is a
 * scalar in our engine is `{ value }` here; `$('sN').item.json` is n8n's way to read an earlier step
 * (our `steps.sN`), the webhook's body is our `input`.
 */
export function n8nWorkflow() {
  const input = "$('Webhook').item.json.body"
  const steps = [
    set('s1', [['name', `={{ ${input}.name }}`, 'string'], ['n', `={{ ${input}.n }}`, 'number']], 1),
    set('s2', [['value', "={{ $('s1').item.json.n + 1 }}", 'number']], 2),
    set('s3', [['value', "=Hello {{ $('s1').item.json.name }} #{{ $('s2').item.json.value }}", 'string']], 3),
    set('s4', [['value', "={{ $('s3').item.json.value.length }}", 'number']], 4),
    set('s5', [['len', "={{ $('s4').item.json.value }}", 'number'], ['tags', `={{ ${input}.tags }}`, 'array']], 5),
    set('s6', [['value', `={{ ${input}.tags.includes('vip') }}`, 'boolean']], 6),
    set('s7', [['vip', "={{ $('s6').item.json.value }}", 'boolean'], ['who', "={{ $('s1').item.json.name }}", 'string']], 7),
    set('s8', [['value', "={{ $('s2').item.json.value * 10 }}", 'number']], 8),
    set('s9', [['value', "={{ $('s8').item.json.value }}", 'number']], 9),
    set('s10', [['total', "={{ $('s9').item.json.value }}", 'number'], ['vip', "={{ $('s7').item.json.vip }}", 'boolean']], 10),
  ]
  const webhook = {
    id: crypto.randomUUID(), name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId: crypto.randomUUID(),
    parameters: { httpMethod: 'POST', path: WEBHOOK_PATH, responseMode: 'lastNode', responseData: 'firstEntryJson', options: {} },
  }
  const nodes = [webhook, ...steps]
  const connections = Object.fromEntries(nodes.slice(0, -1).map((n, i) => [n.name, { main: [[{ node: nodes[i + 1].name, type: 'main', index: 0 }]] }]))
  return { id: WORKFLOW_ID, name: 'agentbase bench: 10 steps', active: false, settings: { executionOrder: 'v1' }, nodes, connections }
}

const rssKb = (pid: number) => {
  try { return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) } catch { return 0 }
}
const childPids = (pid: number) => readdirSync(`/proc/${pid}/task`).flatMap((t) => {
  try { return readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) } catch { return [] }
})

export interface N8n { url: string; pid: number; rssMb(): { main: number; children: number }; executionsSaved(): number | null; stop(): Promise<void> }

/** Defaults except what keeps it quiet and local; `env` adds settings (e.g. execution saving off). */
export async function startN8n(dir: string, env: Record<string, string>, cpu: number, check: (answer: unknown) => boolean, body: string): Promise<N8n> {
  const bin = join(dir, 'node_modules', 'n8n', 'bin', 'n8n')
  if (!existsSync(bin)) throw new Error(`${bin} not found\n${INSTALL}`)
  const home = mkdtempSync(join(tmpdir(), 'agentbase-bench-n8n-'))
  const port = freePort()
  const fullEnv: Record<string, string | undefined> = {
    ...process.env, N8N_USER_FOLDER: home, N8N_PORT: String(port), N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_RUNNERS_BROKER_PORT: String(freePort()), N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
    N8N_DIAGNOSTICS_ENABLED: 'false', N8N_PERSONALIZATION_ENABLED: 'false', N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_TEMPLATES_ENABLED: 'false', N8N_LOG_LEVEL: 'error', NODE_ENV: 'production', /* as n8n's Docker image */ ...env,
  }
  const cli = (...args: string[]) => {
    const r = Bun.spawnSync(['node', bin, ...args], { env: fullEnv, stdout: 'pipe', stderr: 'pipe' })
    if (r.exitCode !== 0) throw new Error(`n8n ${args.join(' ')} failed (${r.exitCode}):\n${r.stdout.toString().slice(-2000)}${r.stderr.toString().slice(-2000)}`)
  }
  writeFileSync(join(home, 'workflow.json'), JSON.stringify(n8nWorkflow()))
  cli('import:workflow', `--input=${join(home, 'workflow.json')}`)
  cli('publish:workflow', `--id=${WORKFLOW_ID}`)
  const log = Bun.file(join(home, 'n8n.log'))
  // BENCH_N8N_NODE_FLAGS: e.g. "--cpu-prof --cpu-prof-dir=/tmp/n8n-prof" (Node refuses --cpu-prof in NODE_OPTIONS)
  const flags = (process.env.BENCH_N8N_NODE_FLAGS ?? '').split(' ').filter(Boolean)
  const proc = track(Bun.spawn(['taskset', '-c', String(cpu), 'node', ...flags, bin, 'start'], { env: fullEnv, stdout: log, stderr: log }))
  const url = `http://127.0.0.1:${port}/webhook/${WEBHOOK_PATH}`
  // Ready when the published workflow answers (the HTTP server listens before workflows are activated).
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null || i > 600) { await untrack(proc, 9); throw new Error(`n8n did not answer the webhook correctly:\n${(await log.text()).slice(-3000)}`) }
    const answer = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } }).then((r) => (r.ok ? r.json() : null), () => null)
    if (answer !== null && check(answer)) break
    if (answer !== null) { await untrack(proc, 9); throw new Error(`n8n answered ${JSON.stringify(answer)}`) }
    await Bun.sleep(200)
  }
  return {
    url, pid: proc.pid,
    rssMb: () => ({ main: rssKb(proc.pid) / 1024, children: childPids(proc.pid).reduce((a, p) => a + rssKb(p), 0) / 1024 }),
    executionsSaved: () => {
      try {
        const db = new Database(join(home, '.n8n', 'database.sqlite'), { readonly: true })
        try { return db.query<{ n: number }, []>('SELECT count(*) AS n FROM execution_entity WHERE deletedAt IS NULL').get()!.n } finally { db.close() }
      } catch { return null }
    },
    async stop() { await untrack(proc); rmSync(home, { recursive: true, force: true }) },
  }
}
