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

let built: { html: string; csp: string } | null = null
async function document() {
  if (built) return built
  const css = (await Bun.file(consoleCss).text()).trim()
  const hash = `sha256-${createHash('sha256').update(css).digest('base64')}`
  built = { html: page(css), csp: csp(hash) }
  return built
}

const securityHeaders = (set: { headers: Record<string, string | number> }, type: string, policy: string) => {
  set.headers['content-type'] = type
  set.headers['content-security-policy'] = policy
  set.headers['x-frame-options'] = 'DENY'
  set.headers['x-content-type-options'] = 'nosniff'
  set.headers['referrer-policy'] = 'same-origin'
  // Revalidate every time: the files change with the binary, and on localhost the check is free.
  set.headers['cache-control'] = 'no-cache'
}

export const consolePlugin = (_k: Kernel) =>
  new Elysia({ name: 'console' })
    .get('/', async ({ set }) => {
      const doc = await document()
      securityHeaders(set, 'text/html; charset=utf-8', doc.csp)
      return doc.html
    }, { detail: { hide: true } })
    .get('/assets/console.js', async ({ set }) => {
      securityHeaders(set, 'application/javascript; charset=utf-8', (await document()).csp)
      return Bun.file(consoleJs)
    }, { detail: { hide: true } })
