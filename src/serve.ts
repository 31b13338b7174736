import type { Kernel } from './kernel'
import { createApp, registerDomains } from './app'

/** Starts the HTTP server and the background workers; returns a graceful stop. */
export function serve(k: Kernel, opts: { port?: number; host?: string } = {}) {
  registerDomains(k) // each domain's wiring before any route is built
  const app = createApp(k)
  app.listen({
    port: opts.port ?? k.config.port,
    hostname: opts.host ?? k.config.host,
    // Bun's own limit answers an empty 413 before any hook runs: it must never be the one that fires.
    // Ours (src/http/body.ts) refuse a declared Content-Length at once and count streamed bytes while
    // reading, with the JSON 413 naming the route's limit; nothing is buffered beyond that limit.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    idleTimeout: 0, // SSE streams send keepalives; per-request timeouts are ours
    // Elysia asks for SO_REUSEPORT: a second server on a busy port would then "listen" too and the kernel
    // would split requests between two databases. Without it a taken port fails with EADDRINUSE.
    reusePort: false,
  })
  const server = app.server!
  k.workers.start()
  let stopping: Promise<void> | null = null
  const stop = () => (stopping ??= (async () => {
    const t0 = performance.now()
    const grace = new Promise<void>((r) => setTimeout(r, k.config.shutdownGraceMs).unref?.())
    await Promise.race([server.stop(false), grace])
    server.stop(true)
    k.log.debug('http server stopped', { ms: Math.round(performance.now() - t0) })
    await k.workers.stopAll()
    k.log.debug('workers stopped', { ms: Math.round(performance.now() - t0) })
    k.close()
  })())
  return { server, app, stop, url: `http://${server.hostname === '0.0.0.0' ? '127.0.0.1' : server.hostname}:${server.port}` }
}
