import { Elysia } from 'elysia'
import { createHash } from 'node:crypto'
import consoleJs from './dist/console.js' with { type: 'file' }
import consoleCss from './dist/console.css' with { type: 'file' }
import type { Kernel } from '../../src/kernel'

/**
 * The operator console (DESIGN §15): one static page at `/` plus its bundled script, embedded in the
 * binary. Everything else it shows comes from the documented API with the cookie session.
 * Hash routes (`/#/runs`) keep the server side to these two files.
 */

/** CSP without 'unsafe-inline' or 'unsafe-eval': scripts only from our origin; the one inline stylesheet by its hash. */
const csp = (styleHash: string) => [
  "default-src 'self'", "script-src 'self'", `style-src 'self' '${styleHash}'`, "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ')

// The stylesheet is inlined (allowed by its hash) so the first paint needs no second request.
const page = (css: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Agentbase console</title><link rel="icon" href="data:,"><style>${css}</style>
<script type="module" src="/assets/console.js"></script></head>
<body><div id="app"><p class="boot">Loading the console…</p></div><noscript>The Agentbase console needs JavaScript.</noscript></body></html>`

type Bytes = Uint8Array<ArrayBuffer>
interface Asset { body: Bytes; gzipped: Uint8Array; etag: string; type: string }
const asset = (body: Bytes, type: string): Asset => ({
  body, gzipped: Bun.gzipSync(body), type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
})

/** Built on first request from the embedded files: the page, the script, each also gzipped, and the policy. */
let built: Promise<{ page: Asset; script: Asset; policy: string }> | null = null
const assets = () => (built ??= (async () => {
  const css = (await Bun.file(consoleCss).text()).trim()
  const policy = csp(`sha256-${createHash('sha256').update(css).digest('base64')}`)
  const js = new Uint8Array(await Bun.file(consoleJs).arrayBuffer())
  return {
    page: asset(new TextEncoder().encode(page(css)), 'text/html; charset=utf-8'),
    script: asset(js, 'application/javascript; charset=utf-8'),
    policy,
  }
})())

type Set = { headers: Record<string, string | number>; status?: number | string }

/** Security headers on every console response; gzip when accepted; 304 when the browser has this version. */
function serve(a: Asset, policy: string, request: Request, set: Set) {
  set.headers['content-type'] = a.type
  set.headers['content-security-policy'] = policy
  set.headers['x-frame-options'] = 'DENY'
  set.headers['x-content-type-options'] = 'nosniff'
  set.headers['referrer-policy'] = 'same-origin'
  // Revalidate every time (the files change with the binary); the ETag makes that a 304.
  set.headers['cache-control'] = 'no-cache'
  set.headers.etag = a.etag
  set.headers.vary = 'accept-encoding'
  if (request.headers.get('if-none-match') === a.etag) {
    set.status = 304
    return ''
  }
  if (/\bgzip\b/.test(request.headers.get('accept-encoding') ?? '')) {
    set.headers['content-encoding'] = 'gzip'
    return a.gzipped
  }
  return a.body
}

export const consolePlugin = (_k: Kernel) =>
  new Elysia({ name: 'console' })
    .get('/', async ({ request, set }) => {
      const a = await assets()
      return serve(a.page, a.policy, request, set)
    }, { detail: { hide: true } })
    .get('/assets/console.js', async ({ request, set }) => {
      const a = await assets()
      return serve(a.script, a.policy, request, set)
    }, { detail: { hide: true } })
