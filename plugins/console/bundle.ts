/**
 * Bundles the console's source (ui/) into dist/console.js and dist/console.css, which index.ts embeds
 * in the binary `with { type: 'file' }`. Run before `build`, `start` and `test` (package.json pre-scripts
 * and the bun test preload in bunfig.toml), so a fresh clone needs no committed bundle.
 * Skips the work when the bundle is newer than every source file.
 */
import { existsSync, mkdirSync, readdirSync, statSync, copyFileSync } from 'node:fs'
import { join } from 'node:path'

const here = import.meta.dir
const uiDir = join(here, 'ui')
const outDir = join(here, 'dist')
const outJs = join(outDir, 'console.js')
const outCss = join(outDir, 'console.css')

function newestSource(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs)
  }
  return newest
}

export async function bundleConsole({ force = false } = {}) {
  const fresh = existsSync(outJs) && existsSync(outCss) && statSync(outJs).mtimeMs >= newestSource(uiDir)
  if (fresh && !force) return { skipped: true }
  mkdirSync(outDir, { recursive: true })
  const result = await Bun.build({
    entrypoints: [join(uiDir, 'main.ts')],
    target: 'browser',
    format: 'esm',
    minify: true,
    naming: 'console.js',
    outdir: outDir,
    define: { 'process.env.NODE_ENV': '"production"' },
  })
  if (!result.success) throw new AggregateError(result.logs, 'console bundle failed')
  copyFileSync(join(uiDir, 'console.css'), outCss)
  return { skipped: false }
}

if (import.meta.main) {
  const r = await bundleConsole({ force: process.argv.includes('--force') })
  console.log(r.skipped ? 'console bundle up to date' : `console bundled: ${statSync(outJs).size} bytes JS`)
}
