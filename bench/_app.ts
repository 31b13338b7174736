/**
 * For the benchmarks: the real app over a fresh data dir, driven in-process to set up an owner and a
 * workspace before the load starts (helpers start with "_", so `npm run bench` does not run this file).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { createKernel } from '../src/kernel'
import { createApp } from '../src/app'

// A stopped bench server exits normally, so `bun --cpu-prof` writes its profile.
process.once('SIGTERM', () => process.exit(0))

export async function benchApp(name: string, env: Record<string, string | undefined> = {}) {
  const dir = mkdtempSync(join(tmpdir(), `agentbase-bench-${name}-`))
  const k = createKernel(loadConfig({
    ...process.env, AGENTBASE_DATA_DIR: dir, AGENTBASE_SYNC: 'full', LOG_LEVEL: 'error', AGENTBASE_OPEN_REGISTRATION: 'on',
    AGENTBASE_OUTBOUND_ALLOW: '127.0.0.1,localhost', OPENAI_API_KEY: 'sk-bench', ...env,
  }))
  const app = createApp(k)
  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await app.handle(new Request(`http://127.0.0.1${path}`, { method, body: body ? JSON.stringify(body) : undefined, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } }))
    return res.json() as Promise<any>
  }
  await call('POST', '/api/auth/register', { email: 'bench@example.com', password: 'correct-horse-battery' })
  const { token } = await call('POST', '/api/auth/login', { email: 'bench@example.com', password: 'correct-horse-battery' })
  const ws = (await call('POST', '/api/workspaces', { name: 'bench' }, token)).workspace
  return { dir, k, app, call, token: token as string, ws }
}
