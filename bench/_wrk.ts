/**
 * For the wrk benchmarks (helpers start with "_", so `npm run bench` does not run this file): roles started
 * as separate processes pinned to a core, wrk pinned to core 1, and its output parsed.
 */
import { join } from 'node:path'
import { readFileSync, rmSync } from 'node:fs'
import type { Subprocess } from 'bun'

const ROOT = join(import.meta.dir, '..')

export interface Load { rps: number; p50: number; p99: number; non2xx: number; errors: number }

const children = new Set<Subprocess>()
process.on('exit', () => { for (const c of children) { try { c.kill(9) } catch { /* gone */ } } })

/** Kills the tracked child on exit of this process (a benchmark that throws leaves no server behind). */
export function track<P extends Subprocess>(proc: P): P { children.add(proc); return proc }
export async function untrack(proc: Subprocess, signal: NodeJS.Signals | number = 'SIGTERM') {
  proc.kill(signal); await proc.exited; children.delete(proc)
}

/** Starts `bun <file> <role>` pinned to `cpu`; resolves with the words of its first stdout line naming a URL. */
export async function role(file: string, args: string[], env: Record<string, string>, cpu: number) {
  const proc = track(Bun.spawn(['taskset', '-c', String(cpu), process.execPath, join(ROOT, 'bench', file), ...args], {
    stdout: 'pipe', stderr: 'inherit', env: { ...process.env, LOG_LEVEL: 'error', ...env },
  }))
  const reader = proc.stdout.getReader()
  let buf = ''
  let line: string | undefined
  // The first line that names a URL (set-up may log access lines before it).
  while (!(line = buf.split('\n').slice(0, -1).find((l) => l.startsWith('http://')))) {
    const r = await reader.read()
    if (r.done) throw new Error(`${file} ${args.join(' ')} exited before it listened`)
    buf += new TextDecoder().decode(r.value)
  }
  reader.releaseLock()
  proc.stdout.pipeTo(new WritableStream()).catch(() => {}) // the access log: drained, not kept
  const words = line.trim().split(' ')
  return { proc, words, async stop() { await untrack(proc); const dir = words.at(-1); if (dir?.startsWith('/')) rmSync(dir, { recursive: true, force: true }) } }
}

const ms = (v: string) => (v.endsWith('us') ? Number(v.slice(0, -2)) / 1000 : v.endsWith('ms') ? Number(v.slice(0, -2)) : v.endsWith('s') ? Number(v.slice(0, -1)) * 1000 : Number(v))

export interface WrkOptions { connections: number; seconds: number; timeoutS?: number; script?: string; headers?: Record<string, string>; env?: Record<string, string> }

/** One wrk run on core 1 (`script` is a file of bench/wrk/). */
export async function wrk(url: string, opts: WrkOptions): Promise<Load> {
  const args = ['taskset', '-c', '1', 'wrk', '-t1', `-c${opts.connections}`, `-d${opts.seconds}s`, '--latency']
  if (opts.timeoutS) args.push('--timeout', `${opts.timeoutS}s`) // wrk's default 2 s drops slower answers from the latencies
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}: ${v}`)
  if (opts.script) args.push('-s', join(ROOT, 'bench', 'wrk', opts.script))
  args.push(url)
  const p = Bun.spawn(args, { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, ...opts.env } })
  const out = await new Response(p.stdout).text()
  await p.exited
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0)
  const p50 = ms(/\n\s+50%\s+(\S+)/.exec(out)?.[1] ?? '0')
  const p99 = ms(/\n\s+99%\s+(\S+)/.exec(out)?.[1] ?? '0')
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0)
  const e = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  return { rps, p50, p99, non2xx, errors: e ? e.slice(1).reduce((a, b) => a + Number(b), 0) : 0 }
}

export const requireWrk = () => { if (Bun.spawnSync(['which', 'wrk']).exitCode !== 0) throw new Error('wrk not found: apt-get install -y wrk') }
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
/** The run whose req/s is the median of the rounds. */
export const medianRun = (xs: Load[]) => xs.reduce((x, y) => (median(xs.map((z) => z.rps)) === y.rps ? y : x), xs[0])
export const fmt = (l: Load) => `${Math.round(l.rps).toLocaleString('en')} req/s, p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms${l.non2xx || l.errors ? `, non-2xx ${l.non2xx}, errors ${l.errors}` : ''}`
export const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
