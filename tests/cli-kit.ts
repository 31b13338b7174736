// Running the real CLI (`bun src/main.ts ...`) in child processes, as an operator would.
import { afterAll } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKernel } from '../src/kernel'
import { loadConfig } from '../src/config'
import { createLogger } from '../src/log'

export const ROOT = join(import.meta.dir, '..')
export const BUN = join(ROOT, 'node_modules', '.bin', 'bun')
export const MAIN = join(ROOT, 'src', 'main.ts')

const dirs: string[] = []
export const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'agentbase-cli-')); dirs.push(d); return d }
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

export type Env = Record<string, string | undefined>

/** The environment minus any AGENTBASE_* the developer happens to have set. */
export const baseEnv = (dir: string, extra: Record<string, string> = {}): Env => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AGENTBASE_') && k !== 'PORT' && k !== 'HOST')),
  AGENTBASE_DATA_DIR: dir,
  AGENTBASE_PASSWORD_MEMORY_KIB: '1024',
  ...extra,
})

/** A data dir holding a database, made by the same code `serve` runs (other commands never create one). */
export function withDatabase(env: Env): Env {
  createKernel(loadConfig(env), { log: createLogger('silent') }).close()
  return env
}

export async function cli(args: string[], env: Env, opts: { cwd?: string; stdin?: string } = {}) {
  const p = Bun.spawn([BUN, MAIN, ...args], {
    env, cwd: opts.cwd ?? ROOT, stdin: opts.stdin !== undefined ? new Blob([opts.stdin]) : 'ignore', stdout: 'pipe', stderr: 'pipe',
  })
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  return { out, err, code }
}

/** A `serve` process; resolves with its URL once it logged "listening", or rejects with its stderr if it exited. */
export async function startServer(env: Env, port = '0') {
  const proc = Bun.spawn([BUN, MAIN, 'serve'], { env: { LOG_LEVEL: 'info', ...env, PORT: port, HOST: '127.0.0.1' }, cwd: ROOT, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const reader = proc.stdout.getReader()
  let buf = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) throw new Error(`serve exited ${await proc.exited}: ${await new Response(proc.stderr).text()}`)
    buf += new TextDecoder().decode(value)
    const line = buf.split('\n').find((l) => l.includes('"msg":"listening"'))
    if (line) {
      // Keep draining: a full pipe would block the server's log writes.
      ;(async () => { while (!(await reader.read().catch(() => ({ done: true }))).done); })()
      const url = JSON.parse(line).url as string
      return { proc, url, port: Number(new URL(url).port) }
    }
  }
}
