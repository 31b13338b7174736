/**
 * `npm run bench`: runs every bench/*.ts (except this runner and files starting with "_" or "zz-"),
 * one after another, each in its own process. `npm run bench -- --list` lists them;
 * `npm run bench -- auth runtime` runs only those.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

const dir = import.meta.dir
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_') && !f.startsWith('zz-'))
  .map((f) => f.slice(0, -3))
  .sort()
const args = process.argv.slice(2)

if (args.includes('--list')) {
  for (const name of all) console.log(`${name}\tnpx bun bench/${name}.ts`)
  process.exit(0)
}
const unknown = args.filter((a) => !all.includes(a))
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${all.join(', ')}`)
  process.exit(2)
}

let failed = 0
for (const name of args.length ? args : all) {
  console.log(`\n=== bench/${name}.ts ===`)
  const p = Bun.spawn([process.execPath, join(dir, `${name}.ts`)], { stdout: 'inherit', stderr: 'inherit', stdin: 'ignore' })
  const code = await p.exited
  if (code !== 0) {
    failed++
    console.error(`bench/${name}.ts exited ${code}`)
  }
}
process.exit(failed ? 1 : 0)
