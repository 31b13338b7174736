/**
 * Reach benchmarks (issue 15). Run: `npx bun bench/reach.ts` (about a minute). Loopback only, in one process:
 * the real app (`createApp`, synchronous=FULL) driven through `app.handle` (no sockets), the tests' fake LLM
 * answering at once on 127.0.0.1, a webhook receiver on 127.0.0.1.
 *
 * 1. POST /v1/agents/{id}/message: latency of the 201 (the message and its task stored, the run started in the
 *    background), sequential requests while earlier tasks run.
 * 2. Task completion -> webhook delivery: agent.task.completed published (bus listener time) to the receiver
 *    having the signed POST. The background workers run from the start, as `serve` starts them.
 * 3. GET /v1/analytics/usage over 1,000,000 runs: 1M run increments fed to the rollup through the code the
 *    run listener uses (30 days, 20 agents, 4 models, 5 channels, 10 tokens), then the query timed.
 * 4. /v1/chat/completions vs POST /api/run/:slug on the same agent endpoint, interleaved: the added latency.
 * BENCH_SYNC=normal runs it all with AGENTBASE_SYNC=normal (default full).
 */
import { benchApp } from './_app'
import { startFakeLlm } from '../tests/fixtures/fake-llm'

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] }
const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(2)} ms, p99 ${pct(xs, 99).toFixed(2)} ms, max ${Math.max(...xs).toFixed(2)} ms (n=${xs.length})`

const llm = await startFakeLlm({ record: false })
llm.defaultReply = { text: 'Booked for 4 at 19:00.', usage: { input: 40, output: 6 } }
const { k, app, call, token, ws, dir } = await benchApp('reach', { OPENAI_BASE_URL: llm.openaiBase, AGENTBASE_SYNC: process.env.BENCH_SYNC ?? 'full' })
const pat = (await call('POST', '/api/tokens', { name: 'bench', rate_limit_rpm: 10_000_000 }, token)).key as string
const created = await call('POST', '/api/agent-endpoints', { name: 'Bench agent', workspace_id: ws.id, system_prompt: 'You book tables.', rate_limit_rpm: 1_000_000 }, token)
const ep = created.endpoint
await call('POST', `/api/agent-endpoints/${ep.id}/activate`, undefined, token)
const aek = created.api_key as string
k.workers.start() // as `serve` does before it listens
const unfinishedTasks = () => (k.db.query("SELECT count(*) AS n FROM v1_tasks WHERE state IN ('submitted', 'working')").get() as { n: number }).n

const req = (method: string, path: string, body: unknown, auth = pat) =>
  app.handle(new Request(`http://127.0.0.1${path}`, { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` } }))

// --- 1. message 201 latency --------------------------------------------------------------------------------
{
  for (let i = 0; i < 200; i++) await (await req('POST', `/v1/agents/${ep.id}/message`, { content: 'warm up' })).text()
  const lat: number[] = []
  for (let i = 0; i < 3000; i++) {
    const t0 = performance.now()
    const res = await req('POST', `/v1/agents/${ep.id}/message`, { content: `Book a table for ${i % 8 + 1}` })
    await res.text()
    lat.push(performance.now() - t0)
    if (res.status !== 201) throw new Error(`message: ${res.status}`)
  }
  console.log(`1. POST /v1/agents/{id}/message -> 201: ${fmt(lat)}`)
  while (unfinishedTasks() > 0) await Bun.sleep(20) // let the background tasks finish
}

// --- 2. task completion -> webhook delivery ----------------------------------------------------------------
{
  const published = new Map<string, number>()
  const delays: number[] = []
  let expected = 0
  k.events.subscribe((e) => { if (e.type === 'agent.task.completed') published.set(String(e.data.task_id), performance.now()) })
  const rx = Bun.serve({
    hostname: '127.0.0.1', port: 0,
    async fetch(r) {
      const body = await r.json() as { data: { task_id: string } }
      const t = published.get(body.data.task_id)
      if (t !== undefined) delays.push(performance.now() - t)
      return new Response('ok')
    },
  })
  await call('POST', '/v1/webhooks', { url: `http://127.0.0.1:${rx.port}/hook`, events: ['agent.task.completed'] }, pat)
  // A steady 50 tasks/s (latency, not a burst's queueing: deliveries to one URL are at most 8 in flight).
  for (let i = 0; i < 300; i++) {
    await (await req('POST', `/v1/agents/${ep.id}/message`, { content: `task ${i}` })).text()
    expected++
    await Bun.sleep(20)
  }
  const end = Date.now() + 30_000
  while (delays.length < expected && Date.now() < end) await Bun.sleep(10)
  console.log(`2. agent.task.completed -> webhook received: ${fmt(delays)}`)
  rx.stop(true)
}

// --- 3. usage query over 1,000,000 runs --------------------------------------------------------------------
{
  // 1,000,000 synthetic runs over 30 days (20 agents, 4 models, 5 channels, 10 tokens, 2% errors), folded into the
  // rollup with one INSERT ... GROUP BY per dimension and grain: the rows the per-run upserts produce (the tests
  // check those increments), built in seconds instead of 8,000,000 single upserts.
  const t0 = performance.now()
  const db = k.db
  const start = Date.parse('2026-11-01T00:00:00Z') / 1000
  db.exec(`CREATE TEMP TABLE bench_runs AS WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999)
    SELECT strftime('%Y-%m-%dT%H:00:00Z', ${start} + (i * 2592) / 1000, 'unixepoch') AS hour, 'aep_bench' || (i % 20) AS agent,
      CASE i % 4 WHEN 0 THEN 'gpt-4o-mini' WHEN 1 THEN 'gpt-4o' WHEN 2 THEN 'claude-sonnet-4-6' ELSE 'llama3' END AS model,
      CASE i % 5 WHEN 0 THEN 'api' WHEN 1 THEN 'openai' WHEN 2 THEN 'mcp' WHEN 3 THEN 'telegram' ELSE 'slack' END AS channel,
      'tok_bench' || (i % 10) AS token, CASE WHEN i % 50 = 0 THEN 1 ELSE 0 END AS err FROM n`)
  db.transaction(() => {
    for (const dim of ['agent', 'model', 'channel', 'token']) {
      for (const [grain, expr] of [['hour', 'hour'], ['day', "substr(hour, 1, 10) || 'T00:00:00Z'"]]) {
        db.query(`INSERT INTO usage_rollup (owner_id, dim, grain, bucket, workspace_id, key, runs, tokens_input, tokens_output, cost_micro, errors)
          SELECT ?, '${dim}', '${grain}', ${expr}, ?, ${dim}, count(*), 40 * count(*), 6 * count(*), 1200 * count(*), sum(err) FROM bench_runs GROUP BY ${expr}, ${dim}`).run(ws.owner_id, ws.id)
      }
    }
  })()
  db.exec('DROP TABLE bench_runs')
  const rows = db.query<{ n: number }, []>('SELECT count(*) AS n FROM usage_rollup').get()!.n
  console.log(`3. 1,000,000 runs folded into the rollup in ${((performance.now() - t0) / 1000).toFixed(1)} s (${rows} rollup rows)`)
  for (const q of ['bucket=day&group_by=agent', 'bucket=day&group_by=token', 'bucket=hour&group_by=channel']) {
    const lat: number[] = []
    let runs = 0
    for (let i = -5; i < 50; i++) { // 5 warm-up queries (statement compile, page cache)
      const t = performance.now()
      const res = await app.handle(new Request(`http://127.0.0.1/v1/analytics/usage?from=2026-11-01&to=2026-12-01&${q}`, { headers: { authorization: `Bearer ${pat}` } }))
      const body = await res.json() as { totals: { runs: number } }
      if (i >= 0) lat.push(performance.now() - t)
      runs = body.totals.runs
    }
    console.log(`   GET /v1/analytics/usage (30 days, ${q}; totals.runs=${runs}): ${fmt(lat)}`)
  }
}

// --- 4. chat completions vs /api/run -----------------------------------------------------------------------
{
  const run: number[] = []
  const oai: number[] = []
  const messages = [{ role: 'user', content: 'Book a table for 4' }]
  for (let i = 0; i < 2400; i++) {
    const measure = i >= 400 // warm-up first
    let t = performance.now()
    let res = await req('POST', `/api/run/${ep.slug}`, { input: 'Book a table for 4' }, aek)
    await res.text()
    if (measure) run.push(performance.now() - t)
    t = performance.now()
    res = await req('POST', '/v1/chat/completions', { model: ep.slug, messages }, aek)
    await res.text()
    if (measure) oai.push(performance.now() - t)
    if (res.status !== 200) throw new Error(`chat completions: ${res.status}`)
  }
  console.log(`4. POST /api/run/:slug:        ${fmt(run)}`)
  console.log(`   POST /v1/chat/completions: ${fmt(oai)}`)
  console.log(`   added: p50 ${(pct(oai, 50) - pct(run, 50)).toFixed(2)} ms, p99 ${(pct(oai, 99) - pct(run, 99)).toFixed(2)} ms`)
}

await k.workers.stopAll().catch(() => {})
k.close()
llm.close()
const { rmSync } = await import('node:fs')
rmSync(dir, { recursive: true, force: true })
process.exit(0)
