/**
 * Agent endpoints benchmarks (issue 5). Run: `npx bun bench/endpoints.ts` (about 90 s). Loopback only.
 *
 * 1. POST /api/run/:slug, sync, API key, the fake LLM answering at once. autocannon (this process) against two
 *    servers (child processes pinned to CPU 1 with taskset when available), one after the other in the same run,
 *    both on SQLite WAL, first with synchronous=FULL (the default) then NORMAL; the fake LLM is a third process
 *    (CPU 0, with the load generator):
 *      - limit: a bare Elysia route doing the same key lookup (slug -> row, SHA-256 + constant-time compare),
 *        one fetch to the fake LLM and one INSERT (its own transaction) per request;
 *      - ours: the real app (`createApp`): request ids, metrics, rate limiting, the runtime (spec, tools list,
 *        provider adapter), the run recorded with its wallet debit and run.completed event, group commit.
 * 2. Streaming: 500 concurrent SSE runs (enable_streaming) held open while a streaming fake LLM (its own process)
 *    emits a token every 20 ms, each stamped with its emission time. The client (this process) parses every
 *    stream (a regex over each chunk, cheap enough not to be the bottleneck) and measures emission -> client
 *    latency per token in the steady state (all streams open), once through Agentbase
 *    and once straight from the fake LLM (the same client, the same 500 streams): the difference is what we add.
 *    Server RSS sampled throughout.
 *
 * Roles (internal): `bun bench/endpoints.ts llm|stream-llm|bare|ours`. BENCH_ONLY=sync|streaming runs one part;
 * BENCH_STREAMS changes the number of concurrent streams (default 500).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Elysia } from 'elysia'
import { benchApp } from './_app'
import { openDb } from '../src/db/open'
import { hashKey, mintKey, safeEqual } from '../src/auth/keys'
import { newId } from '../src/db/ids'
import { startFakeLlm } from '../tests/fixtures/fake-llm'
import { firstLine } from './_spawn'

const role = process.argv[2]
const DURATION_S = 10
const CONNECTIONS = 50
const STREAMS = Number(process.env.BENCH_STREAMS ?? 500)
const TOKENS = 250
const TOKEN_MS = 20
const now = () => performance.timeOrigin + performance.now()

/** The part of autocannon's result we use (the package ships no types). */
interface AcResult {
  requests: { average: number; total: number }
  latency: { p50: number; p90: number; p99: number; max: number }
  '2xx': number; non2xx: number; errors: number; timeouts: number
}
type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, res: AcResult) => void) => unknown
const autocannonModule = 'autocannon'


/** The tests' fake LLM answering at once (JSON), no request records. */
async function fakeLlm() {
  const llm = await startFakeLlm({ record: false })
  llm.defaultReply = { text: 'The article covers benchmarks.', usage: { input: 40, output: 6 } }
  console.log(`${llm.openaiBase}`)
}

/** A streaming OpenAI-compatible fake: TOKENS chunks, one every TOKEN_MS, each chunk's text = its emission time. */
function streamLlm() {
  const enc = new TextEncoder()
  const server = Bun.serve({
    port: 0, hostname: '127.0.0.1', idleTimeout: 0,
    async fetch(req) {
      const body = await req.json() as { stream?: boolean; model?: string }
      const frame = (o: unknown) => enc.encode(`data: ${JSON.stringify(o)}\n\n`)
      const chunk = (delta: unknown, finish: string | null = null) => ({ id: 'c', object: 'chat.completion.chunk', created: 0, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })
      let i = 0
      let timer: ReturnType<typeof setInterval>
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(frame(chunk({ role: 'assistant', content: '' })))
          timer = setInterval(() => {
            try {
              if (i++ < TOKENS) { c.enqueue(frame(chunk({ content: `${now().toFixed(3)} ` }))); return }
              clearInterval(timer)
              c.enqueue(frame(chunk({}, 'stop')))
              c.enqueue(frame({ id: 'c', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 20, completion_tokens: TOKENS, total_tokens: 20 + TOKENS } }))
              c.enqueue(enc.encode('data: [DONE]\n\n'))
              c.close()
            } catch { clearInterval(timer) }
          }, TOKEN_MS)
        },
        cancel() { clearInterval(timer) },
      })
      return new Response(stream, { headers: { 'content-type': 'text/event-stream' } })
    },
  })
  console.log(`http://127.0.0.1:${server.port}/v1`)
}

/** The physical limit of this path: key lookup + one fetch to the LLM + one INSERT, nothing else. */
function bareServer() {
  const dir = mkdtempSync(join(tmpdir(), 'agentbase-bench-ep-bare-'))
  const db = openDb(join(dir, 'base.db'), process.env.BENCH_SYNC === 'normal' ? 'normal' : 'full')
  db.exec(`CREATE TABLE endpoints (id TEXT PRIMARY KEY, slug TEXT UNIQUE NOT NULL, key_hash TEXT NOT NULL, system_prompt TEXT NOT NULL, model TEXT NOT NULL);
    CREATE TABLE runs (id TEXT PRIMARY KEY, endpoint_id TEXT NOT NULL, input TEXT NOT NULL, output TEXT, tokens_input INTEGER, tokens_output INTEGER, latency_ms INTEGER, created_at TEXT NOT NULL)`)
  const { key, hash } = mintKey('aek_')
  db.query('INSERT INTO endpoints VALUES (?, ?, ?, ?, ?)').run('aep_bare', 'bench', hash, 'You summarize.', 'gpt-4o-mini')
  const bySlug = db.query<{ id: string; key_hash: string; system_prompt: string; model: string }, [string]>('SELECT * FROM endpoints WHERE slug = ?')
  const insert = db.query('INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
  const llm = process.env.OPENAI_BASE_URL!
  const app = new Elysia().post('/api/run/:slug', async ({ params, body, request, set }) => {
    const t0 = performance.now()
    const ep = bySlug.get(params.slug)
    const given = request.headers.get('x-api-key') ?? ''
    if (!ep || !safeEqual(hashKey(given), ep.key_hash)) { set.status = 401; return { error: 'Invalid API key' } }
    const input = String((body as { input?: string }).input)
    const res = await fetch(`${llm}/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
      body: JSON.stringify({ model: ep.model, messages: [{ role: 'system', content: ep.system_prompt }, { role: 'user', content: input }], max_tokens: 4096 }),
    })
    const j = await res.json() as any
    const output = j.choices[0].message.content
    insert.run(newId('run'), ep.id, input, output, j.usage.prompt_tokens, j.usage.completion_tokens, Math.round(performance.now() - t0), new Date().toISOString())
    return { output, usage: { tokens_input: j.usage.prompt_tokens, tokens_output: j.usage.completion_tokens } }
  }).listen({ port: 0, hostname: '127.0.0.1' })
  console.log(`http://127.0.0.1:${app.server!.port} bench ${key} ${dir}`)
}

/** The real app over a fresh data dir (synchronous=FULL) with one active endpoint. */
async function ourServer() {
  const streaming = process.env.BENCH_STREAMING === '1'
  const { dir, k, app, call, token, ws } = await benchApp('ep-ours', { AGENTBASE_SYNC: process.env.BENCH_SYNC ?? 'full' })
  const created = await call('POST', '/api/agent-endpoints', {
    name: 'bench', slug: 'bench', workspace_id: ws.id, system_prompt: 'You summarize.', rate_limit_rpm: 1_000_000, enable_streaming: streaming, timeout_ms: 60000,
  }, token)
  await call('POST', `/api/agent-endpoints/${created.endpoint.id}/activate`, undefined, token)
  app.listen({ port: 0, hostname: '127.0.0.1', idleTimeout: 0 })
  console.log(`http://127.0.0.1:${app.server!.port} bench ${created.api_key} ${dir}`)
}

// ---------------------------------------------------------------------------------------------------------

const hasTaskset = (() => { try { return Bun.spawnSync(['taskset', '-c', '0', 'true']).exitCode === 0 } catch { return false } })()

async function spawnRole(args: string[], env: Record<string, string> = {}, cpu?: number) {
  const cmd = [process.execPath, import.meta.path, ...args]
  const proc = Bun.spawn(hasTaskset && cpu !== undefined ? ['taskset', '-c', String(cpu), ...cmd] : cmd, { stdout: 'pipe', stderr: 'inherit', env: { ...process.env, ...env } })
  const [url, slug, key, dir] = await firstLine(proc.stdout, args[0])
  return { proc, url, slug, key, dir, stop: async () => { proc.kill(); await proc.exited; if (dir) rmSync(dir, { recursive: true, force: true }) } }
}

const statusOf = (pid: number) => readFileSync(`/proc/${pid}/status`, 'utf8')
const memMb = (pid: number, field: 'VmRSS' | 'VmHWM') => Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(statusOf(pid))?.[1] ?? 0) / 1024)
/** CPU seconds (user + system) a process used so far. */
const cpuSeconds = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / 100 }
const count = (dir: string, file: string, sql: string) => { const db = openDb(join(dir, file), 'normal'); try { return (db.query(sql).get() as { n: number }).n } finally { db.close() } }

async function load(url: string, slug: string, key: string, duration: number): Promise<AcResult> {
  const autocannon = (await import(autocannonModule)).default as Autocannon
  return new Promise((resolve, reject) => {
    autocannon({
      url: `${url}/api/run/${slug}`, connections: CONNECTIONS, duration, method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ input: 'Summarize: benchmarks measure things.' }),
    }, (err, res) => (err ? reject(err) : resolve(res)))
  })
}

async function syncRuns() {
  const llm = await spawnRole(['llm'], {}, 0)
  console.log(`\nPOST /api/run/:slug, sync, API key: ${CONNECTIONS} connections, ${DURATION_S} s each, server ${hasTaskset ? 'pinned to CPU 1 (load generator and fake LLM on CPU 0)' : 'unpinned'}, fake LLM answering at once`)
  console.log('| synchronous | server | runs/s | p50 ms | p90 ms | p99 ms | max ms | 2xx | non-2xx/errors | rows stored (incl. warm-up) | server CPU (cores) | fake LLM CPU (cores) | peak RSS MB |')
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|')
  const ratios: string[] = []
  for (const sync of ['full', 'normal'] as const) {
    const rates: number[] = []
    for (const which of ['bare', 'ours'] as const) {
      const s = await spawnRole([which], { OPENAI_BASE_URL: llm.url, BENCH_SYNC: sync }, 1)
      await load(s.url, s.slug, s.key, 2) // warm up
      const cpu0 = cpuSeconds(s.proc.pid)
      const llmCpu0 = cpuSeconds(llm.proc.pid)
      const r = await load(s.url, s.slug, s.key, DURATION_S)
      const cpu = (cpuSeconds(s.proc.pid) - cpu0) / DURATION_S
      const llmCpu = (cpuSeconds(llm.proc.pid) - llmCpu0) / DURATION_S
      const stored = which === 'bare' ? count(s.dir, 'base.db', 'SELECT count(*) AS n FROM runs') : count(s.dir, 'agentbase.db', 'SELECT count(*) AS n FROM runs')
      const label = which === 'bare' ? 'limit: bare Elysia, key lookup + 1 fetch + 1 INSERT' : 'Agentbase POST /api/run/:slug'
      console.log(`| ${sync.toUpperCase()} | ${label} | ${Math.round(r.requests.average).toLocaleString('en')} | ${r.latency.p50} | ${r.latency.p90} | ${r.latency.p99} | ${r.latency.max} | ${r['2xx'].toLocaleString('en')} | ${r.non2xx + r.errors + r.timeouts} | ${stored.toLocaleString('en')} | ${cpu.toFixed(2)} | ${llmCpu.toFixed(2)} | ${memMb(s.proc.pid, 'VmHWM')} |`)
      rates.push(r.requests.average)
      await s.stop()
    }
    ratios.push(`synchronous=${sync.toUpperCase()}: ${((rates[1] / rates[0]) * 100).toFixed(1)}%`)
  }
  await llm.stop()
  console.log(`Agentbase / limit: ${ratios.join(', ')} (target >= 70%)`)
}

interface StreamStats { samples: Array<[sent: number, latency: number]>; tokens: number; streams: number; failed: number }

/**
 * Opens `n` SSE streams, spread over `rampMs`; for each token, latency = arrival - the emission time stamped in its
 * text. The client parses cheaply (a regex over each chunk) so that it is not the bottleneck it measures.
 */
async function streams(url: string, body: string, headers: Record<string, string>, n: number, rampMs: number): Promise<StreamStats> {
  const st: StreamStats = { samples: [], tokens: 0, streams: 0, failed: 0 }
  const stamp = /(?:"text"|"content"):"(\d{13}\.\d{3}) "/g
  const final = /run\.completed|\[DONE\]/
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    await Bun.sleep((rampMs * i) / n)
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
      if (!res.ok || !res.body) { st.failed++; return }
      const reader = res.body.getReader()
      const dec = new TextDecoder()
      let carry = ''
      let done = false
      for (;;) {
        const r = await reader.read()
        if (r.done) break
        const at = now()
        const text = carry + dec.decode(r.value, { stream: true })
        const cut = text.lastIndexOf('\n\n')
        const complete = cut < 0 ? '' : text.slice(0, cut)
        carry = cut < 0 ? text : text.slice(cut + 2)
        for (const m of complete.matchAll(stamp)) { st.samples.push([Number(m[1]), at - Number(m[1])]); st.tokens++ }
        if (final.test(complete)) done = true
      }
      if (done) st.streams++
      else st.failed++
    } catch {
      st.failed++
    }
  }))
  return st
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN }

const RAMP_MS = 1000

async function streaming() {
  const llm = await spawnRole(['stream-llm'], {}, 0)
  const steady = (x: StreamStats, from: number, to: number) => x.samples.filter(([sent]) => sent >= from && sent <= to).map(([, l]) => l)
  const measure = async (target: string, body: string, headers: Record<string, string>) => {
    const t0 = now()
    const x = await streams(target, body, headers, STREAMS, RAMP_MS)
    // Steady state: tokens emitted once every stream is open (ramp + 200 ms) until the first stream ended.
    return { x, lat: steady(x, t0 + RAMP_MS + 200, t0 + TOKENS * TOKEN_MS) }
  }
  const direct = await measure(`${llm.url}/chat/completions`, JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [] }), {})
  const s = await spawnRole(['ours'], { OPENAI_BASE_URL: llm.url, BENCH_STREAMING: '1' }, 1)
  const runUrl = `${s.url}/api/run/${s.slug}`
  const runBody = JSON.stringify({ input: 'stream please' })
  await streams(runUrl, runBody, { 'x-api-key': s.key }, 50, 200) // warm up
  const rssBefore = memMb(s.proc.pid, 'VmRSS')
  let peak = rssBefore
  const sampler = setInterval(() => { try { peak = Math.max(peak, memMb(s.proc.pid, 'VmRSS')) } catch { /* gone */ } }, 100)
  const cpu0 = cpuSeconds(s.proc.pid)
  const t0 = performance.now()
  const ours = await measure(runUrl, runBody, { 'x-api-key': s.key })
  const cpu = (cpuSeconds(s.proc.pid) - cpu0) / ((performance.now() - t0) / 1000)
  clearInterval(sampler)
  const recorded = count(s.dir, 'agentbase.db', "SELECT count(*) AS n FROM runs WHERE status = 'success'")
  await s.stop()
  await llm.stop()
  console.log(`\nStreaming: ${STREAMS} concurrent SSE runs (opened over ${RAMP_MS} ms), the fake LLM emitting ${TOKENS} tokens each, one every ${TOKEN_MS} ms (${Math.round(STREAMS * 1000 / TOKEN_MS).toLocaleString('en')} tokens/s in all); latency = emission -> read by the client, steady state`)
  console.log('| path | streams completed | failed | tokens received | steady-state tokens | p50 ms | p90 ms | p99 ms | max ms | server CPU (cores) | server RSS MB (idle -> peak) |')
  console.log('|---|---|---|---|---|---|---|---|---|---|---|')
  const row = (name: string, m: { x: StreamStats; lat: number[] }, extra: string) =>
    console.log(`| ${name} | ${m.x.streams} | ${m.x.failed} | ${m.x.tokens.toLocaleString('en')} | ${m.lat.length.toLocaleString('en')} | ${pct(m.lat, 0.5).toFixed(2)} | ${pct(m.lat, 0.9).toFixed(2)} | ${pct(m.lat, 0.99).toFixed(2)} | ${Math.max(...m.lat).toFixed(2)} | ${extra} |`)
  row('direct from the fake LLM (baseline)', direct, '- | -')
  row('through Agentbase (SSE, run recorded)', ours, `${cpu.toFixed(2)} | ${rssBefore} -> ${peak}`)
  console.log(`added latency per token: p50 ${(pct(ours.lat, 0.5) - pct(direct.lat, 0.5)).toFixed(2)} ms, p99 ${(pct(ours.lat, 0.99) - pct(direct.lat, 0.99)).toFixed(2)} ms (target p99 < 5 ms); runs recorded: ${recorded - 50}/${STREAMS}`)
}

async function main() {
  // The load generator and the fakes share CPU 0; the server under test has CPU 1 to itself.
  if (hasTaskset) Bun.spawnSync(['taskset', '-a', '-p', '-c', '0', String(process.pid)])
  if (process.env.BENCH_ONLY === 'sync') return syncRuns()
  if (process.env.BENCH_ONLY === 'streaming') return streaming()
  console.log(`endpoints bench — bun ${Bun.version}, ${navigator.hardwareConcurrency} cores, ${new Date().toISOString().slice(0, 10)}, load average before: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`)
  await syncRuns()
  await streaming()
}

if (role === 'llm') await fakeLlm()
else if (role === 'stream-llm') streamLlm()
else if (role === 'bare') bareServer()
else if (role === 'ours') await ourServer()
else await main()
