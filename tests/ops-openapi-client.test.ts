// Issue 11 item 18: a TypeScript client generated from the OpenAPI document (openapi-typescript, called
// through openapi-fetch) type-checks and works against the real server.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test'
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import openapiTS from 'openapi-typescript'
import { epEnv, type EpEnv } from './endpoints-kit'
import { serve } from '../src/serve'

setDefaultTimeout(120_000) // tsc and a child process on a busy machine

const ROOT = join(import.meta.dir, '..')
const dir = mkdtempSync(join(tmpdir(), 'agentbase-client-'))
let env: EpEnv
let server: ReturnType<typeof serve>
beforeAll(async () => {
  env = await epEnv()
  server = serve(env.t.k, { port: 0, host: '127.0.0.1' })
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  copyFileSync(join(ROOT, 'tests', 'fixtures', 'openapi-client.ts.txt'), join(dir, 'client.ts'))
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', strict: true, noEmit: true, skipLibCheck: true, types: ['bun'] },
    files: ['client.ts', 'schema.d.ts'],
  }))
})
afterAll(() => { server.server.stop(true); env.close(); rmSync(dir, { recursive: true, force: true }) })

const run = async (cmd: string[]) => {
  const p = Bun.spawn(cmd, { cwd: dir, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' })
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  return { out, err, code }
}

test('types generated from /swagger/json compile with a client that uses them, and the client works', async () => {
  const doc = await (await fetch(`${server.url}/swagger/json`)).json()
  const types = await openapiTS(doc)
  writeFileSync(join(dir, 'schema.d.ts'), types)
  expect(types).toContain('"/api/run/{slug}"')

  const tsc = await run([join(ROOT, 'node_modules', '.bin', 'tsc'), '-p', 'tsconfig.json'])
  expect({ code: tsc.code, out: tsc.out.trim() }).toEqual({ code: 0, out: '' })

  const client = await run([join(ROOT, 'node_modules', '.bin', 'bun'), 'client.ts', server.url])
  expect(client.err).toBe('')
  expect(client.code).toBe(0)
  expect(JSON.parse(client.out)).toEqual({
    user: 'generated@example.com', workspace: 'from the generated client', notFound: 'not_found', status: 404,
    output: expect.any(String), entries: true,
  })
})
