/**
 * Runtime benchmarks (issue 3). Run: `npx bun bench/runtime.ts` (about 40 s). Loopback only.
 *
 * 1. Overhead: one-turn agent runs per second (`collect(run(...))`) against the fake LLM answering at once,
 *    versus bare `fetch` calls of the same fake LLM with the same body, alternating in the same run.
 *    The fake LLM runs in its own process.
 * 2. Streaming pass-through: 100 concurrent SSE clients (this process) <- agent SSE server (a child process:
 *    run() + sseResponse()) <- fake LLM (another child) streaming tokens stamped with their send time.
 *    Latency = client receive time - token send time, per text.delta.
 *
 * Options (environment): BENCH_ONLY=stream runs only part 2; BENCH_RELAY=1 makes the SSE server pipe the upstream
 * body through untouched (the floor of this path); BENCH_SSE_BUN_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles it.
 *
 * Roles (internal): `bun bench/runtime.ts fake` and `bun bench/runtime.ts sse <fakeOpenaiBase>`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createParser } from 'eventsource-parser'
import { startFakeLlm } from '../tests/fixtures/fake-llm'
import { loadConfig } from '../src/config'
import { createKernel } from '../src/kernel'
import { collect, run } from '../src/agent/run'
import { sseResponse } from '../src/http/sse'
import type { AgentSpec } from '../src/agent/types'

const role = process.argv[2]
const TOKENS_PER_STREAM = 40
const TOKEN_DELAY_MS = 25

function kernelFor(fakeBase: string) {
  const dir = mkdtempSync(join(tmpdir(), 'agentbase-bench-'))
  const k = createKernel(loadConfig({ AGENTBASE_DATA_DIR: dir, AGENTBASE_SYNC: 'normal', LOG_LEVEL: 'silent', OPENAI_BASE_URL: fakeBase, OPENAI_API_KEY: 'sk-bench' }))
  return { k, cleanup: () => { k.close(); rmSync(dir, { recursive: true, force: true }) } }
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

const spec = (model: string): AgentSpec => ({ systemPrompt: 'You are a benchmark.', provider: 'openai', model, ownerId: 'usr_bench' })

if (role === 'fake') {
  const fake = await startFakeLlm({ record: false })
  fake.defaultReply = (r) => (r.body?.model === 'stamp'
    ? { stamp: TOKENS_PER_STREAM, tokenDelayMs: TOKEN_DELAY_MS, usage: { input: 20, output: TOKENS_PER_STREAM } }
    : { text: 'Hello from the fake LLM.', usage: { input: 20, output: 6 } })
  console.log(fake.openaiBase)
} else if (role === 'sse') {
  const { k } = kernelFor(process.argv[3])
  let tokens = 0
  let streams = 0
  const server = Bun.serve({
    port: 0, hostname: '127.0.0.1', idleTimeout: 0,
    fetch(req) {
      if (new URL(req.url).pathname === '/stats') {
        const cpu = process.cpuUsage()
        return Response.json({ cpu_us: cpu.user + cpu.system, tokens, streams })
      }
      streams++
      if (process.env.BENCH_RELAY) return relay(req)
      return sseResponse(k, run(k, spec('stamp'), { message: 'stream please' }, { signal: req.signal }), {
        signal: req.signal,
        onEvent: (_id, e) => { if (e.type === 'text.delta') tokens++ },
      })
    },
  })
  // BENCH_RELAY=1: the floor of this path — the same upstream request with its SSE body piped through untouched
  // (no parsing, no events); the client reads the stamps from the OpenAI chunks instead.
  const relayBody = JSON.stringify({ model: 'stamp', messages: [{ role: 'user', content: 'stream please' }], stream: true, stream_options: { include_usage: true } })
  const relay = async (req: Request) => {
    const up = await fetch(`${process.argv[3]}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' }, body: relayBody, signal: req.signal })
    tokens += TOKENS_PER_STREAM
    return new Response(up.body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } })
  }
  process.on('SIGTERM', () => process.exit(0)) // lets --cpu-prof write its profile
  console.log(`http://127.0.0.1:${server.port}`)
} else {
  const children: Array<{ kill(): void }> = []
  try {
    await main(children)
  } finally {
    for (const c of children) c.kill()
  }
  process.exit(0)
}

async function spawnRole(args: string[], bunArgs: string[] = []) {
  const proc = Bun.spawn([process.execPath, ...bunArgs, import.meta.path, ...args], { stdout: 'pipe', stderr: 'inherit' })
  const reader = proc.stdout.getReader()
  let line = ''
  while (!line.includes('\n')) line += new TextDecoder().decode((await reader.read()).value)
  return { proc, url: line.trim() }
}

async function closedLoop(concurrency: number, seconds: number, once: () => Promise<void>) {
  const until = performance.now() + seconds * 1000
  let n = 0
  let errors = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) {
      try { await once(); n++ } catch { errors++ }
    }
  }))
  return { rate: n / seconds, errors }
}


async function main(children: Array<{ kill(): void }>) {
  console.log(`agentbase runtime bench — bun ${Bun.version}, ${navigator.hardwareConcurrency} cores, ${new Date().toISOString()}, load average ${(await Bun.file("/proc/loadavg").text().catch(() => "?")).split(" ").slice(0, 3).join(" ")}`)
  const fake = await spawnRole(['fake'])
  children.push(fake.proc)
  // BENCH_ONLY=stream skips part 1.
  if (process.env.BENCH_ONLY !== 'stream') {
  const { k, cleanup } = kernelFor(fake.url)
  try {
    // ---- 1. overhead
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'You are a benchmark.' }, { role: 'user', content: 'hi' }], stream: false })
    const bare = async () => {
      const res = await fetch(`${fake.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' }, body })
      const j = await res.json() as { choices: Array<{ message: { content: string } }> }
      if (!j.choices[0].message.content) throw new Error('empty')
    }
    const streamBody = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'You are a benchmark.' }, { role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } })
    const bareStream = async () => {
      const res = await fetch(`${fake.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' }, body: streamBody })
      const text = await res.text()
      if (!text.includes('[DONE]')) throw new Error('incomplete')
    }
    const viaRuntime = (stream: boolean) => async () => {
      const r = await collect(run(k, spec('gpt-4o-mini'), { message: 'hi' }, { stream }))
      if (!r.ok) throw new Error(r.error)
    }
    const C = 32
    const SECONDS = 2
    const ROUNDS = 5
    await closedLoop(8, 1, bare) // warm up
    await closedLoop(8, 1, viaRuntime(false))
    const rows: Array<[string, number, number]> = []
    const ratios = { json: [] as number[], stream: [] as number[] }
    for (let round = 0; round < ROUNDS; round++) {
      const b = await closedLoop(C, SECONDS, bare)
      const j = await closedLoop(C, SECONDS, viaRuntime(false))
      const bs = await closedLoop(C, SECONDS, bareStream)
      const s = await closedLoop(C, SECONDS, viaRuntime(true))
      ratios.json.push(j.rate / b.rate)
      ratios.stream.push(s.rate / bs.rate)
      rows.push(
        [`bare fetch, JSON (round ${round + 1})`, b.rate, b.errors], [`runtime, JSON turn (round ${round + 1})`, j.rate, j.errors],
        [`bare fetch, SSE read to the end (round ${round + 1})`, bs.rate, bs.errors], [`runtime, streamed turn (round ${round + 1})`, s.rate, s.errors],
      )
    }
    console.log(`\n## Runtime overhead (concurrency ${C}, ${SECONDS} s per measurement)`)
    console.log('| scenario | runs/s | errors |\n|---|---:|---:|')
    for (const [name, rate, errors] of rows) console.log(`| ${name} | ${rate.toFixed(0)} | ${errors} |`)
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
    console.log(`| **runtime JSON / bare fetch (median of rounds)** | **${(median(ratios.json) * 100).toFixed(1)}%** | |`)
    console.log(`| runtime streamed / bare SSE fetch (median of rounds) | ${(median(ratios.stream) * 100).toFixed(1)}% | |`)
  } finally {
    cleanup()
  }
  }

  // ---- 2. streaming pass-through latency
  // BENCH_SSE_BUN_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the agent SSE server.
  const sse = await spawnRole(['sse', fake.url], (process.env.BENCH_SSE_BUN_ARGS ?? '').split(' ').filter(Boolean))
  children.push(sse.proc)
  const STREAMS = 100
  const SECONDS = 8
  const lat: number[] = []
  const stats = async () => (await fetch(`${sse.url}/stats`)).json() as Promise<{ cpu_us: number; tokens: number; streams: number }>
  const before = await stats()
  let streams = 0
  let failed = 0
  const until = performance.now() + SECONDS * 1000
  await Promise.all(Array.from({ length: STREAMS }, async () => {
    while (performance.now() < until) {
      const res = await fetch(sse.url)
      let completed = false
      const parser = createParser({
        onEvent: (e) => {
          if (e.event === 'text.delta') {
            const now = performance.timeOrigin + performance.now()
            lat.push(now - Number.parseFloat(JSON.parse(e.data).text))
          } else if (e.event === 'run.completed') completed = true
          else if (e.event === undefined) { // BENCH_RELAY: raw OpenAI chunks
            if (e.data === '[DONE]') { completed = true; return }
            const stamp = JSON.parse(e.data).choices?.[0]?.delta?.content
            if (stamp) lat.push(performance.timeOrigin + performance.now() - Number.parseFloat(stamp))
          }
        },
      })
      const dec = new TextDecoder()
      for await (const chunk of res.body!) parser.feed(dec.decode(chunk, { stream: true }))
      if (completed) streams++
      else failed++
    }
  }))
  const after = await stats()
  lat.sort((a, b) => a - b)
  console.log(`\n## Streaming pass-through${process.env.BENCH_RELAY ? ' — RELAY floor (upstream body piped untouched)' : ''} (${STREAMS} concurrent SSE streams, ${TOKENS_PER_STREAM} tokens each every ${TOKEN_DELAY_MS} ms, ${SECONDS} s)`)
  console.log('| streams completed | failed | tokens | p50 ms | p90 ms | p99 ms | max ms |\n|---:|---:|---:|---:|---:|---:|---:|')
  console.log(`| ${streams} | ${failed} | ${lat.length} | ${pct(lat, 50).toFixed(3)} | ${pct(lat, 90).toFixed(3)} | ${pct(lat, 99).toFixed(3)} | ${lat[lat.length - 1].toFixed(3)} |`)
  const cpuPerToken = (after.cpu_us - before.cpu_us) / Math.max(1, after.tokens - before.tokens)
  console.log(`\nAgent SSE server CPU per streamed token (LLM SSE in -> run() -> SSE out, incl. run setup): ${cpuPerToken.toFixed(1)} µs`)
  console.log(`(load average at the end: ${(await Bun.file('/proc/loadavg').text().catch(() => '?')).split(' ').slice(0, 3).join(' ')})`)
}
