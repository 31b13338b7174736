/**
 * The console's first paint on localhost: the server from source (or CONSOLE_TEST_BIN), Debian's
 * chromium headless, a fresh context per load (cold cache), first-contentful-paint of `/` (the sign-in
 * screen), and the bytes shipped. `npx bun bench/console.ts`
 */
import { gzipSync } from 'node:zlib'
import { hasChromium, launch, startServer } from '../tests/console/browser-kit'

if (!hasChromium) {
  console.log('console bench skipped: /usr/bin/chromium is not installed (apt-get install -y chromium)')
  process.exit(0)
}
const LOADS = 30
const server = await startServer({})
// The floor on this machine: the same browser painting a one-line page from a bare Bun.serve.
const bare = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('<!doctype html><h1>Loading</h1>', { headers: { 'content-type': 'text/html' } }) })
const browser = await launch()
const fcp: number[] = []
const floor: number[] = []
const ready: number[] = []
const paint = () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN
try {
  for (let i = 0; i < LOADS; i++) {
    const baseline = await browser.newContext()
    const plain = await baseline.newPage()
    await plain.goto(`http://127.0.0.1:${bare.port}/`)
    await plain.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0)
    floor.push(await plain.evaluate(paint))
    await baseline.close()

    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${server.url}/`)
    await page.getByRole('heading').first().waitFor()
    const t = await page.evaluate(() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
      // The signed-out screen rendered by the app (after /api/auth/session answered).
      ready: performance.now(),
      nav: (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).toJSON(),
    }))
    if (process.env.VERBOSE) console.log(`fcp ${Math.round(t.fcp)} ms, html received ${Math.round(t.nav.responseEnd)} ms, DOMContentLoaded ${Math.round(t.nav.domContentLoadedEventEnd)} ms`)
    fcp.push(t.fcp)
    ready.push(t.ready)
    await context.close()
  }
  const js = await (await fetch(`${server.url}/assets/console.js`)).arrayBuffer()
  const html = await (await fetch(`${server.url}/`)).arrayBuffer()
  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]
  console.log(`first-contentful-paint of /: p50 ${pct(fcp, 50).toFixed(1)} ms, p95 ${pct(fcp, 95).toFixed(1)} ms (${LOADS} cold loads)`)
  console.log(`  floor (a one-line page from bare Bun.serve, same browser): p50 ${pct(floor, 50).toFixed(1)} ms, p95 ${pct(floor, 95).toFixed(1)} ms`)
  console.log(`sign-in screen rendered: p50 ${pct(ready, 50).toFixed(1)} ms, p95 ${pct(ready, 95).toFixed(1)} ms`)
  console.log(`JavaScript ${js.byteLength} bytes, ${gzipSync(new Uint8Array(js)).length} gzipped; page with its inline CSS ${html.byteLength} bytes, ${gzipSync(new Uint8Array(html)).length} gzipped`)
} finally {
  await browser.close()
  server.stop()
  bare.stop(true)
}
