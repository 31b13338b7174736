/**
 * Issue 13, side by side with n8n: the 10-step transform workflow of bench/workflows.ts, triggered over HTTP
 * with the same body, in one run. `BENCH_N8N_DIR=/work/n8n npx bun bench/n8n.ts` (about 3 minutes; without
 * BENCH_N8N_DIR it prints how to install n8n and exits).
 *
 *   n8n:  POST /webhook/<path>: a Webhook trigger answering with the last node's data ("When Last Node
 *         Finishes"), then 10 Edit Fields (Set) nodes with n8n expressions. Started with its defaults (SQLite,
 *         every execution saved), and a second instance with EXECUTIONS_DATA_SAVE_ON_SUCCESS=none.
 *   ours: POST /api/workflows/:id/execute { input_data, mode: "sync" } with an API token: the real app,
 *         AGENTBASE_SYNC=normal, every step attempt journaled. (Our webhook trigger acknowledges with 202 and
 *         runs the execution afterwards, so it is not the equivalent of n8n's synchronous webhook.)
 *
 * Every server on core 0 (`taskset -c 0`; n8n's task-runner child inherits it), wrk on core 1; targets
 * alternate within a round. Both answers are checked ({ total: 80, vip: true } for n = 7) before the load.
 * Env: BENCH_N8N_DIR, BENCH_CONNECTIONS ("10,50"), BENCH_SECONDS (8), BENCH_ROUNDS (2), BENCH_N8N_NOSAVE (1; 0 skips).
 */
import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import { benchApp } from './_app'
import { STEPS } from './_workflow-steps'
import { INSTALL, startN8n } from './_n8n'
import { loadavg, median, medianRun, requireWrk, role, wrk, type Load } from './_wrk'

const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '10,50').split(',').map(Number)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const INPUT = { name: 'Ada', n: 7, tags: ['a', 'vip'] }
const expected = (o: unknown) => !!o && typeof o === 'object' && (o as { total?: unknown }).total === 80 && (o as { vip?: unknown }).vip === true

interface Target { name: string; url: string; headers?: Record<string, string>; body: string }

async function main(dir: string) {
  requireWrk()
  const started = new Date().toISOString()
  console.log(`wrk -t1 -d${SECONDS}s at ${CONNECTIONS.map((c) => `-c${c}`).join(' and ')}, servers on core 0, wrk on core 1, ${ROUNDS} rounds; load average ${loadavg()}; ${started}`)
  const n8nVersion = Bun.spawnSync(['node', join(dir, 'node_modules', 'n8n', 'bin', 'n8n'), '--version']).stdout.toString().trim()
  const n8nBody = JSON.stringify(INPUT)
  const saving = await startN8n(dir, {}, 0, expected, n8nBody)
  const noSave = process.env.BENCH_N8N_NOSAVE === '0' ? null : await startN8n(dir, { EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'none' }, 0, expected, n8nBody)
  const ours = await role('n8n.ts', ['ours'], { AGENTBASE_SYNC: 'normal' }, 0)
  const [ourUrl, wfId, key, ourDir] = ours.words
  const ourBody = JSON.stringify({ input_data: INPUT, mode: 'sync' })
  const auth = { authorization: `Bearer ${key}` }
  const check = await fetch(`${ourUrl}/api/workflows/${wfId}/execute`, { method: 'POST', body: ourBody, headers: { 'content-type': 'application/json', ...auth } }).then((r) => r.json()) as { status: string; output_data: unknown }
  if (check.status !== 'success' || !expected(check.output_data)) throw new Error(`ours answered ${JSON.stringify(check).slice(0, 500)}`)
  console.log(`both answer ${JSON.stringify(check.output_data)} for n = 7 (n8n ${n8nVersion}, Node ${Bun.spawnSync(['node', '--version']).stdout.toString().trim()}, Bun ${Bun.version})`)

  const targets: Target[] = [
    { name: 'n8n, executions saved (default)', url: saving.url, body: n8nBody },
    ...(noSave ? [{ name: 'n8n, EXECUTIONS_DATA_SAVE_ON_SUCCESS=none', url: noSave.url, body: n8nBody }] : []),
    { name: 'agentbase, sync execute, journal at normal', url: `${ourUrl}/api/workflows/${wfId}/execute`, headers: auth, body: ourBody },
  ]
  const load = (t: Target, connections: number, seconds = SECONDS) => wrk(t.url, { connections, seconds, timeoutS: 30, script: 'post-json.lua', headers: t.headers, env: { BENCH_BODY: t.body } })
  for (const t of targets) await load(t, 10, 3) // warm-up: JIT, caches, first executions

  const rows: string[] = []
  for (const c of CONNECTIONS) {
    const runs = new Map<Target, Load[]>(targets.map((t) => [t, []]))
    for (let r = 0; r < ROUNDS; r++) for (const t of targets) runs.get(t)!.push(await load(t, c))
    for (const t of targets) {
      const xs = runs.get(t)!
      const m = medianRun(xs)
      const bad = xs.reduce((a, x) => a + x.non2xx + x.errors, 0)
      rows.push(`| ${t.name} | ${c} | ${Math.round(median(xs.map((x) => x.rps))).toLocaleString('en')} | ${m.p50.toFixed(2)} | ${m.p99.toFixed(2)} | ${xs.map((x) => Math.round(x.rps)).join(', ')} | ${bad} |`)
    }
    console.log(`-c${c} done (load average ${loadavg()})`)
  }
  const ourRss = Number(/VmRSS:\s+(\d+)/.exec(await Bun.file(`/proc/${ours.proc.pid}/status`).text())?.[1] ?? 0) / 1024
  const ourSaved = (() => { const db = new Database(join(ourDir, 'agentbase.db'), { readonly: true }); try { return db.query<{ n: number }, []>('SELECT count(*) AS n FROM workflow_executions').get()!.n } finally { db.close() } })()
  const mem = (n: typeof saving) => { const m = n.rssMb(); return `${m.main.toFixed(0)} MB (+ ${m.children.toFixed(0)} MB task-runner child)` }

  console.log(`\n| target | connections | executions/s (median of rounds; of 2, the higher) | p50 ms | p99 ms | rounds (exec/s) | non-2xx + socket errors |`)
  console.log('|---|---|---|---|---|---|---|')
  for (const row of rows) console.log(row)
  console.log(`\nRSS at the end: n8n (saving) ${mem(saving)}${noSave ? `; n8n (no saving) ${mem(noSave)}` : ''}; agentbase ${ourRss.toFixed(0)} MB`)
  console.log(`executions stored at the end: n8n (saving) ${saving.executionsSaved() ?? 'unreadable'}${noSave ? `, n8n (no saving) ${noSave.executionsSaved() ?? 'unreadable'}` : ''}, agentbase ${ourSaved}`)
  console.log(`load average at the end ${loadavg()}`)
  await saving.stop(); await noSave?.stop(); await ours.stop()
  process.exit(0)
}

if (process.argv[2] === 'ours') {
  // The real app with an admin API token (rate limit far above the load) and the workflow saved from steps.
  const { app, call, token, dir } = await benchApp('n8n-ours', { AGENTBASE_SYNC: 'normal' })
  const t = await call('POST', '/api/tokens', { name: 'bench', type: 'personal', rate_limit_rpm: 10_000_000 }, token)
  const wf = await call('POST', '/api/workflows/from-steps', { name: 'bench', steps: STEPS }, token)
  app.listen({ port: 0, hostname: '127.0.0.1' })
  console.log(`http://127.0.0.1:${app.server!.port} ${wf.id} ${t.key} ${dir}`)
} else if (!process.env.BENCH_N8N_DIR) {
  console.log(INSTALL)
} else {
  await main(process.env.BENCH_N8N_DIR)
}
