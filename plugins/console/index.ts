import { Elysia } from 'elysia'
import consoleJs from './dist/console.js' with { type: 'file' }
import consoleCss from './dist/console.css' with { type: 'file' }
import type { Kernel } from '../../src/kernel'

/**
 * The operator console (DESIGN §15): one static page at `/` plus its bundled script and stylesheet,
 * embedded in the binary. Everything else it shows comes from the documented API with the cookie session.
 * Hash routes (`/#/runs`) keep the server side to these three files.
 */

/** No inline script or style, no eval, nothing from another origin, never framed. */
export const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ')

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Agentbase console</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/console.css">
<script type="module" src="/assets/console.js"></script></head>
<body><div id="app"><p class="boot">Loading the console…</p></div><noscript>The Agentbase console needs JavaScript.</noscript></body></html>`

const securityHeaders = (set: { headers: Record<string, string | number> }, type: string) => {
  set.headers['content-type'] = type
  set.headers['content-security-policy'] = CSP
  set.headers['x-frame-options'] = 'DENY'
  set.headers['x-content-type-options'] = 'nosniff'
  set.headers['referrer-policy'] = 'same-origin'
  // Revalidate every time: the files change with the binary, and localhost makes the check free.
  set.headers['cache-control'] = 'no-cache'
}

export const consolePlugin = (_k: Kernel) =>
  new Elysia({ name: 'console' })
    .get('/', ({ set }) => {
      securityHeaders(set, 'text/html; charset=utf-8')
      return page
    }, { detail: { hide: true } })
    .get('/assets/console.js', ({ set }) => {
      securityHeaders(set, 'application/javascript; charset=utf-8')
      return Bun.file(consoleJs)
    }, { detail: { hide: true } })
    .get('/assets/console.css', ({ set }) => {
      securityHeaders(set, 'text/css; charset=utf-8')
      return Bun.file(consoleCss)
    }, { detail: { hide: true } })
