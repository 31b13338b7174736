// Webhook delivery benchmark: `npx bun bench/webhooks.ts`
//  1. throughput: signed deliveries/s through the real engine (outbox -> delivery rows committed ->
//     first attempt straight from memory, native HMAC signature -> attempt log, group-committed) to a
//     local receiver answering 200 at once, vs unsigned bare fetch POSTs of the same bodies at the same
//     concurrency, in the same run (target: >= 70%); plus the send path alone (sign + guard + POST);
//  2. idle latency: publish (committed) -> 2xx recorded, one event at a time (target: p99 < 50 ms).
// The receiver runs in its own process. Both durability settings are measured (AGENTBASE_SYNC).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { createKernel, type Kernel } from '../src/kernel'
import { createLogger } from '../src/log'
import { DeliveryEngine } from '../src/events/delivery'
import { SignedSender } from '../src/events/send'
import { generateSecret } from '../plugins/webhooks/service'

const N = Number(process.env.BENCH_N ?? 4000)
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY ?? 300)

const receiverCode = `
let n = 0
const s = Bun.serve({ hostname: '127.0.0.1', port: 0, async fetch(req) { await req.arrayBuffer(); n++; return new Response('ok') } })
console.log(s.port)
`
const receiver = Bun.spawn([process.execPath, '-e', receiverCode], { stdout: 'pipe', stderr: 'inherit' })
const reader = receiver.stdout.getReader()
const port = Number(new TextDecoder().decode((await reader.read()).value).trim())
const url = `http://127.0.0.1:${port}/hook`

function setup(sync: 'full' | 'normal') {
  const dir = mkdtempSync(join(tmpdir(), 'agentbase-bench-wh-'))
  const config = loadConfig({ AGENTBASE_DATA_DIR: dir, AGENTBASE_OUTBOUND_ALLOW: '127.0.0.1', AGENTBASE_SYNC: sync, LOG_LEVEL: 'silent' })
  const k = createKernel(config, { log: createLogger('silent') })
  const now = new Date().toISOString()
  k.db.query("INSERT INTO users (id, email, password_hash, role, created_at, updated_at) VALUES ('usr_bench', 'b@example.com', 'x', 'user', ?, ?)").run(now, now)
  k.db.query("INSERT INTO webhooks (id, owner_id, url, events, secret, enabled, created_at, updated_at) VALUES ('wh_bench', 'usr_bench', ?, '[\"*\"]', ?, 1, ?, ?)")
    .run(url, k.secrets.seal(generateSecret()), now, now)
  return { k, dir }
}

const data = (i: number) => ({ run_id: `run_${i}`, endpoint_id: 'aep_bench', model: 'gpt-4o-mini', usage: { input_tokens: 812, output_tokens: 164 }, cost_cents: 0.0221, duration_ms: 1840 })

function publishAll(k: Kernel, n: number) {
  k.db.transaction(() => { for (let i = 0; i < n; i++) k.events.publishUnchecked('run.completed', data(i), { ownerId: 'usr_bench' }) })()
}

async function signedThroughput(sync: 'full' | 'normal', perUrl: number) {
  const { k, dir } = setup(sync)
  const engine = new DeliveryEngine(k, { perUrl })
  k.onClose(() => engine.close())
  publishAll(k, 200) // warm-up
  await engine.runDue()
  publishAll(k, N)
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await engine.runDue()
  const s = (performance.now() - t0) / 1000
  const c = process.cpuUsage(c0)
  const cpuUs = (c.user + c.system) / N
  const ok = k.db.query<{ n: number }, []>("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'success'").get()!.n
  const bodies = k.db.query<{ payload: string }, [number]>('SELECT payload FROM webhook_deliveries ORDER BY rowid LIMIT ?').all(N + 200).map((r) => r.payload)
  k.close()
  rmSync(dir, { recursive: true, force: true })
  if (ok !== N + 200) throw new Error(`expected ${N + 200} successes, got ${ok}`)
  return { rate: N / s, bodies, cpuUs }
}

async function bareThroughput(bodies: string[], concurrency: number) {
  let next = 0
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      await res.text()
      if (res.status !== 200) throw new Error(`receiver answered ${res.status}`)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker)) // warm-up pass below is the measured one
  next = 0
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const c = process.cpuUsage(c0)
  return { rate: bodies.length / ((performance.now() - t0) / 1000), cpuUs: (c.user + c.system) / bodies.length }
}

/** The send path alone (sign + guard + POST + read the answer), no queue bookkeeping: isolates signing's cost. */
async function sendOnly(bodies: string[], concurrency: number) {
  const { k, dir } = setup('normal')
  const sender = new SignedSender(k, 15_000)
  const secret = k.db.query<{ secret: string }, []>("SELECT secret FROM webhooks WHERE id = 'wh_bench'").get()!.secret
  let next = 0
  const worker = async () => {
    while (next < bodies.length) {
      const i = next++
      const r = await sender.send({ id: `whd_bench${i}`, webhook_id: 'wh_bench', payload: bodies[i], attempts: 0, cycle_attempts: 0, url, secret, owner_id: 'usr_bench' })
      if (r.status !== 200) throw new Error(`send failed: ${r.status} ${r.error}`)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  next = 0
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const c = process.cpuUsage(c0)
  k.close()
  rmSync(dir, { recursive: true, force: true })
  return { rate: bodies.length / ((performance.now() - t0) / 1000), cpuUs: (c.user + c.system) / bodies.length }
}

async function idleLatency(sync: 'full' | 'normal') {
  const { k, dir } = setup(sync)
  const engine = new DeliveryEngine(k)
  k.onClose(() => engine.close())
  const stop = engine.start()
  const samples: number[] = []
  for (let i = 0; i < LATENCY_SAMPLES + 20; i++) {
    const done = new Promise<number>((resolve) => {
      const off = engine.onAttempt((r) => { if (r.status === 200) { off(); resolve(performance.now()) } })
    })
    const t0 = performance.now()
    k.db.transaction(() => k.events.publishUnchecked('run.completed', data(i), { ownerId: 'usr_bench' }))()
    const t1 = await done
    if (i >= 20) samples.push(t1 - t0) // the first 20 warm up connections and JIT
    await Bun.sleep(5) // idle between events
  }
  await stop()
  k.close()
  rmSync(dir, { recursive: true, force: true })
  samples.sort((a, b) => a - b)
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]
  return { p50: q(0.5), p99: q(0.99), max: samples.at(-1)! }
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rows: string[][] = []
const perUrl = 8
for (const sync of ['full', 'normal'] as const) {
  // Interleaved rounds (signed, then bare on the same bodies), median of each: the machine's noise hits both.
  const signed: number[] = [], bare: number[] = [], ratio: number[] = [], cpuS: number[] = [], cpuB: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    const s = await signedThroughput(sync, perUrl)
    const b = await bareThroughput(s.bodies.slice(200), perUrl)
    signed.push(s.rate); bare.push(b.rate); ratio.push(s.rate / b.rate); cpuS.push(s.cpuUs); cpuB.push(b.cpuUs)
  }
  rows.push([
    `throughput, AGENTBASE_SYNC=${sync}`,
    `${median(signed).toFixed(0)} signed deliveries/s (${median(cpuS).toFixed(0)} us CPU each)`,
    `${median(bare).toFixed(0)} bare POST/s (${median(cpuB).toFixed(0)} us CPU each)`,
    `${(median(ratio) * 100).toFixed(0)}% (target >= 70%)`,
  ])
}
{
  const bodies = (await signedThroughput('normal', perUrl)).bodies.slice(200)
  const sends: number[] = [], bares: number[] = [], ratio: number[] = [], cpuS: number[] = [], cpuB: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    const s = await sendOnly(bodies, perUrl)
    const b = await bareThroughput(bodies, perUrl)
    sends.push(s.rate); bares.push(b.rate); ratio.push(s.rate / b.rate); cpuS.push(s.cpuUs); cpuB.push(b.cpuUs)
  }
  rows.push([
    'send path only: signed POST, no queue bookkeeping',
    `${median(sends).toFixed(0)} signed POST/s (${median(cpuS).toFixed(0)} us CPU each)`,
    `${median(bares).toFixed(0)} bare POST/s (${median(cpuB).toFixed(0)} us CPU each)`,
    `${(median(ratio) * 100).toFixed(0)}%`,
  ])
}
for (const sync of ['full', 'normal'] as const) {
  const l = await idleLatency(sync)
  rows.push([`idle publish->2xx recorded, AGENTBASE_SYNC=${sync}`, `p50 ${l.p50.toFixed(2)} ms`, `p99 ${l.p99.toFixed(2)} ms (target < 50)`, `max ${l.max.toFixed(2)} ms`])
}
receiver.kill()

console.log(`\nWebhook delivery benchmark — ${N} deliveries per throughput run (median of ${ROUNDS}), concurrency ${perUrl} per URL, ${LATENCY_SAMPLES} latency samples; load average ${(await Bun.file('/proc/loadavg').text()).split(' ').slice(0, 3).join(' ')}`)
console.log('| scenario | result | baseline / p99 | ratio / max |')
console.log('|---|---|---|---|')
for (const r of rows) console.log(`| ${r.join(' | ')} |`)
process.exit(0)
