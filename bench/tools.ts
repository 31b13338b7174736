/**
 * Tool-call overhead (issue 4). Run: `npx bun bench/tools.ts` (about 60 s). Loopback only.
 *
 * The MCP reference server (`@modelcontextprotocol/server-everything`, Streamable HTTP) runs as a child
 * process; Agentbase (`bun src/main.ts serve`, default durability AGENTBASE_SYNC=full) runs as another.
 * This process is the load generator for both scenarios, alternating them in the same run:
 *   direct  the official MCP SDK client calls `get-sum` on the reference server (one client, C in flight)
 *   api     POST /api/mcp/call { name: "everything_get_sum" } on Agentbase, which validates the arguments,
 *           calls the server through its pooled client, audits the call (a SQLite write) and answers
 * Closed loop with C concurrent callers for SECONDS each round. Target: api >= 70% of direct.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { freePort, startEverything } from '../tests/fixtures/mcp-servers'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '8,32').split(',').map(Number)
const ROUNDS = 2

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuOf(pid: number | undefined): number {
  if (!pid) return 0
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const parts = f.slice(f.lastIndexOf(')') + 2).split(' ')
    return (Number(parts[11]) + Number(parts[12])) / 100 // utime + stime in clock ticks (100/s)
  } catch { return 0 }
}
const selfCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

interface Pids { server?: number; mcp?: number }
let pids: Pids = {}

async function closedLoop(concurrency: number, seconds: number, once: () => Promise<void>) {
  const cpu0 = { server: cpuOf(pids.server), mcp: cpuOf(pids.mcp), gen: selfCpu() }
  const until = performance.now() + seconds * 1000
  const lat: number[] = []
  let errors = 0
  let firstError = ''
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) {
      const t0 = performance.now()
      try { await once(); lat.push(performance.now() - t0) } catch (err) { errors++; firstError ||= (err as Error).message }
    }
  }))
  lat.sort((a, b) => a - b)
  const n = Math.max(1, lat.length)
  const cpu = { server: (cpuOf(pids.server) - cpu0.server) * 1000 / n, mcp: (cpuOf(pids.mcp) - cpu0.mcp) * 1000 / n, gen: (selfCpu() - cpu0.gen) * 1000 / n }
  return { rate: lat.length / seconds, p50: pct(lat, 50), p99: pct(lat, 99), errors, firstError, cpu }
}

async function main() {
  console.log(`agentbase tools bench — bun ${Bun.version}, ${navigator.hardwareConcurrency} cores, ${new Date().toISOString()}`)
  const mcp = await startEverything('streamableHttp')
  const dir = mkdtempSync(join(tmpdir(), 'agentbase-bench-tools-'))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const server = Bun.spawn([process.execPath, join(import.meta.dir, '../src/main.ts'), 'serve'], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', AGENTBASE_DATA_DIR: dir, AGENTBASE_OUTBOUND_ALLOW: '127.0.0.1,localhost', LOG_LEVEL: 'warn', ...(process.env.AGENTBASE_SYNC ? { AGENTBASE_SYNC: process.env.AGENTBASE_SYNC } : {}) },
    stdout: 'ignore', stderr: 'inherit',
  })
  pids = { server: server.pid, mcp: mcp.pid }
  try {
    for (let i = 0; ; i++) {
      try { if ((await fetch(`${base}/health`)).ok) break } catch { /* starting */ }
      if (i > 200) throw new Error('agentbase did not start')
      await Bun.sleep(50)
    }
    const api = async (method: string, path: string, body?: unknown, token?: string) => {
      const r = await fetch(base + path, { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) })
      const j: any = await r.json()
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`)
      return j
    }
    await api('POST', '/api/auth/register', { email: 'bench@example.com', password: 'correct-horse-battery' })
    const jwt = (await api('POST', '/api/auth/login', { email: 'bench@example.com', password: 'correct-horse-battery' })).token
    const key = (await api('POST', '/api/tokens', { name: 'bench', rate_limit_rpm: 10_000_000 }, jwt)).key
    const ws = (await api('POST', '/api/workspaces', { name: 'Bench' }, key)).workspace.id
    const s = (await api('POST', `/api/workspaces/${ws}/mcp-servers`, { name: 'Everything', url: mcp.url }, key)).mcp_server
    if (s.status !== 'connected') throw new Error(`MCP server not connected: ${s.error_message}`)

    const client = new Client({ name: 'bench-direct', version: '1' }, { capabilities: {} })
    await client.connect(new StreamableHTTPClientTransport(new URL(mcp.url)))
    const direct = async () => {
      const r: any = await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } })
      if (r.isError || !String(r.content?.[0]?.text).includes('3')) throw new Error('bad direct result')
    }
    const body = JSON.stringify({ name: 'everything_get_sum', arguments: { a: 1, b: 2 }, workspace_id: ws })
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` }
    const viaApi = async () => {
      const r = await fetch(`${base}/api/mcp/call`, { method: 'POST', headers, body })
      const j: any = await r.json()
      if (r.status !== 200 || !j.success) throw new Error(`api ${r.status} ${JSON.stringify(j).slice(0, 200)}`)
    }
    await closedLoop(4, 1, direct) // warm both paths
    await closedLoop(4, 1, viaApi)

    const rows: string[] = []
    for (const c of CONCURRENCY) {
      const d: number[] = []
      const a: number[] = []
      let dl = { p50: 0, p99: 0, cpu: { server: 0, mcp: 0, gen: 0 } }
      let al = { p50: 0, p99: 0, cpu: { server: 0, mcp: 0, gen: 0 } }
      for (let round = 0; round < ROUNDS; round++) {
        const rd = await closedLoop(c, SECONDS, direct)
        const ra = await closedLoop(c, SECONDS, viaApi)
        if (rd.errors || ra.errors) console.log(`  errors: direct ${rd.errors} ${rd.firstError} / api ${ra.errors} ${ra.firstError}`)
        d.push(rd.rate); a.push(ra.rate); dl = rd; al = ra
        console.log(`  c=${c} round ${round + 1}: direct ${rd.rate.toFixed(0)}/s (p50 ${rd.p50.toFixed(2)} ms), api ${ra.rate.toFixed(0)}/s (p50 ${ra.p50.toFixed(2)} ms)`)
        console.log(`    CPU ms per call — direct: mcp server ${rd.cpu.mcp.toFixed(2)}, client ${rd.cpu.gen.toFixed(2)} | api: mcp server ${ra.cpu.mcp.toFixed(2)}, agentbase ${ra.cpu.server.toFixed(2)}, client ${ra.cpu.gen.toFixed(2)}`)
      }
      const dr = d.reduce((x, y) => x + y) / d.length
      const ar = a.reduce((x, y) => x + y) / a.length
      rows.push(`| ${c} | ${dr.toFixed(0)} | ${dl.p50.toFixed(2)} / ${dl.p99.toFixed(2)} | ${ar.toFixed(0)} | ${al.p50.toFixed(2)} / ${al.p99.toFixed(2)} | ${((ar / dr) * 100).toFixed(0)}% | ${al.cpu.server.toFixed(2)} | ${dl.cpu.mcp.toFixed(2)} |`)
    }
    const audited = (await api('GET', '/api/mcp/calls?limit=1', undefined, key)).calls.length
    console.log('\n| concurrency | direct calls/s | direct p50 / p99 ms | API calls/s | API p50 / p99 ms | API / direct | Agentbase CPU ms/call | MCP server CPU ms/call |')
    console.log('|---|---|---|---|---|---|---|---|')
    for (const r of rows) console.log(r)
    console.log(`\n(each call through the API was audited: ${audited ? 'yes' : 'NO'}; ${SECONDS} s per scenario, ${ROUNDS} alternating rounds, mean of rounds; latencies from the last round)`)
    await client.close()
  } finally {
    server.kill()
    await server.exited
    mcp.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
process.exit(0)
