/**
 * Foundation benchmarks (issue 2). Run: `npx bun bench/auth.ts` (about 70 s). Loopback only.
 *
 * 1. Throughput, same run, load from autocannon in its own (node) process:
 *    - a bare Bun.serve JSON handler (its own process: `bun bench/auth.ts bare <port>`)
 *    - GET /health on the compiled binary
 *    - GET /api/auth/me on the compiled binary with an admin API token (rate_limit_rpm very high)
 *    Reports req/s, p50 and p99; target: authenticated >= 50% of bare.
 * 2. Cold start of the compiled binary to the first 200 /health (fresh data dir: migrations and master
 *    key included), median of 7; target < 300 ms.
 * 3. Idle RSS after start and a few requests (target < 60 MB), and the binary's size.
 *
 * Env: BENCH_SECONDS (default 5 per scenario and round), BENCH_ROUNDS (3), BENCH_CONNECTIONS (50), BENCH_LOG (server
 * LOG_LEVEL, default info: the access log is part of the real cost; stdout goes to /dev/null).
 */
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROOT = join(import.meta.dir, '..')
const BIN = join(ROOT, 'dist', 'agentbase')

if (process.argv[2] === 'bare') {
  // The baseline: the least a Bun HTTP server can do per JSON request.
  Bun.serve({ port: Number(process.argv[3]), hostname: '127.0.0.1', fetch: () => Response.json({ status: 'ok' }) })
  console.log('ready')
} else {
  await main()
}

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const p = s.port!
  s.stop(true)
  return p
}

async function waitHealthy(url: string, deadlineMs = 10_000): Promise<number> {
  const t0 = performance.now()
  for (;;) {
    try {
      const r = await fetch(url)
      if (r.status === 200) return performance.now() - t0
    } catch { /* not listening yet */ }
    if (performance.now() - t0 > deadlineMs) throw new Error(`${url} not healthy after ${deadlineMs} ms`)
    await Bun.sleep(2)
  }
}

function startBinary(dataDir: string, port: number, log = 'info') {
  return Bun.spawn([BIN, 'serve'], {
    env: { PATH: process.env.PATH, AGENTBASE_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: log },
    cwd: tmpdir(), stdin: 'ignore', stdout: 'ignore', stderr: 'inherit',
  })
}

interface Load { rps: number; p50: number; p99: number; errors: number; non2xx: number }

async function autocannon(url: string, headers: Record<string, string> = {}, duration?: number): Promise<Load> {
  const seconds = String(duration ?? process.env.BENCH_SECONDS ?? '5')
  const conns = process.env.BENCH_CONNECTIONS ?? '50'
  const args = ['node', join(ROOT, 'node_modules', 'autocannon', 'autocannon.js'), '-j', '-c', conns, '-d', seconds, '-p', '1']
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`)
  args.push(url)
  const p = Bun.spawn(args, { stdout: 'pipe', stderr: 'ignore' })
  const out = await new Response(p.stdout).text()
  await p.exited
  const j = JSON.parse(out)
  return { rps: j.requests.average, p50: j.latency.p50, p99: j.latency.p99, errors: j.errors + j.timeouts, non2xx: j.non2xx }
}

async function main() {
  console.log('building dist/agentbase ...')
  const build = Bun.spawnSync(['npm', 'run', 'build'], { cwd: ROOT, stdout: 'ignore', stderr: 'pipe' })
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`)
  const dirs: string[] = []
  const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'agentbase-bench-')); dirs.push(d); return d }
  const procs: Array<{ kill(): void }> = []
  try {
    // --- throughput ---
    const barePort = await freePort()
    const bare = Bun.spawn([process.execPath, import.meta.path, 'bare', String(barePort)], { stdout: 'ignore', stderr: 'inherit' })
    procs.push(bare)
    const port = await freePort()
    const server = startBinary(tmp(), port, process.env.BENCH_LOG ?? 'info')
    procs.push(server)
    const base = `http://127.0.0.1:${port}`
    await waitHealthy(`http://127.0.0.1:${barePort}/`)
    await waitHealthy(`${base}/health`)
    const post = async (path: string, body: unknown, token?: string) => {
      const r = await fetch(base + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } })
      if (r.status >= 300) throw new Error(`${path}: ${r.status} ${await r.text()}`)
      return r.json() as Promise<any>
    }
    await post('/api/auth/register', { email: 'bench@example.com', password: 'bench-password-1' })
    const jwt = (await post('/api/auth/login', { email: 'bench@example.com', password: 'bench-password-1' })).token
    const key = (await post('/api/tokens', { name: 'bench', type: 'admin', rate_limit_rpm: 10_000_000 }, jwt)).key
    const me = await fetch(`${base}/api/auth/me`, { headers: { authorization: `Bearer ${key}` } })
    if (me.status !== 200) throw new Error(`/api/auth/me with the token: ${me.status}`)

    const scenarios: Array<[string, string, Record<string, string>]> = [
      ['bare Bun.serve JSON', `http://127.0.0.1:${barePort}/`, {}],
      ['GET /health', `${base}/health`, {}],
      ['GET /api/auth/me (API token)', `${base}/api/auth/me`, { authorization: `Bearer ${key}` }],
    ]
    // Rounds alternate the scenarios so that load from elsewhere on the machine hits all of them alike;
    // each scenario reports its median round.
    const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
    for (const [, url, headers] of scenarios) await autocannon(url, headers, 2) // warm-up: JIT, statement cache
    const runs: Load[][] = scenarios.map(() => [])
    for (let round = 0; round < rounds; round++) {
      for (const [i, [name, url, headers]] of scenarios.entries()) {
        const r = await autocannon(url, headers)
        runs[i].push(r)
        console.log(`  round ${round + 1}: ${name}: ${Math.round(r.rps)} req/s`)
      }
    }
    const results: Array<[string, Load]> = scenarios.map(([name], i) => [name, [...runs[i]].sort((a, b) => a.rps - b.rps)[Math.floor(rounds / 2)]])
    const bareRps = results[0][1].rps

    // --- idle RSS of the serving binary (after the load, then a quiet second) ---
    await Bun.sleep(1000)
    const rssAfterLoad = rssMb(server.pid)
    server.kill()
    await server.exited

    // --- cold start and idle RSS of a fresh binary ---
    const starts: number[] = []
    const cpus: number[] = []
    let idleRss = 0
    let idleSplit = ''
    for (let i = 0; i < 7; i++) {
      const p = await freePort()
      const t0 = performance.now()
      const s = startBinary(tmp(), p)
      await waitHealthy(`http://127.0.0.1:${p}/health`)
      starts.push(performance.now() - t0)
      cpus.push(cpuMs(s.pid))
      if (i === 0) {
        for (let j = 0; j < 20; j++) await fetch(`http://127.0.0.1:${p}/health`)
        await Bun.sleep(1000)
        idleRss = rssMb(s.pid)
        idleSplit = `anonymous ${rssMb(s.pid, 'RssAnon').toFixed(1)} MB, file-backed ${rssMb(s.pid, 'RssFile').toFixed(1)} MB`
      }
      s.kill()
      await s.exited
    }
    starts.sort((a, b) => a - b)
    cpus.sort((a, b) => a - b)
    const median = starts[Math.floor(starts.length / 2)]
    const size = statSync(BIN).size / 1024 / 1024

    const rows = results.map(([name, r]) => `| ${name} | ${Math.round(r.rps).toLocaleString('en-US')} | ${(100 * r.rps / bareRps).toFixed(0)}% | ${r.p50} | ${r.p99} | ${r.errors + r.non2xx} |`)
    console.log(`
Throughput (autocannon -c ${process.env.BENCH_CONNECTIONS ?? 50} -d ${process.env.BENCH_SECONDS ?? 5}, median of ${rounds} alternating rounds, loopback, server LOG_LEVEL=${process.env.BENCH_LOG ?? 'info'}; machine load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})
| scenario | req/s | of bare | p50 ms | p99 ms | errors/non-2xx |
|---|---|---|---|---|---|
${rows.join('\n')}

| measure | value | target |
|---|---|---|
| authenticated / bare | ${(100 * results[2][1].rps / bareRps).toFixed(0)}% | >= 50% |
| cold start to first 200 /health (median of 7, fresh data dir) | ${median.toFixed(0)} ms (min ${starts[0].toFixed(0)}, max ${starts.at(-1)!.toFixed(0)}) | < 300 ms |
| CPU time (user+sys) the server spent until then, median | ${cpus[3].toFixed(0)} ms | |
| idle RSS after start + 20 requests | ${idleRss.toFixed(1)} MB (${idleSplit}) | < 60 MB |
| RSS after the load runs, idle 1 s | ${rssAfterLoad.toFixed(1)} MB | |
| binary size (dist/agentbase) | ${size.toFixed(1)} MB | |`)
  } finally {
    for (const p of procs) { try { p.kill() } catch { /* gone */ } }
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  }
}

/** CPU time (user + system) a process has used so far, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

function rssMb(pid: number, field = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}
