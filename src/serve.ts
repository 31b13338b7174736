import type { Kernel } from './kernel'
import { createApp, registerDomains } from './app'
import { largestBodyLimit } from './http/body'

/** Starts the HTTP server and the background workers; returns a graceful stop. */
export function serve(k: Kernel, opts: { port?: number; host?: string } = {}) {
  registerDomains(k) // each domain's wiring before any route is built
  const app = createApp(k)
  app.listen({
    port: opts.port ?? k.config.port,
    hostname: opts.host ?? k.config.host,
    // Backstop only, well above every route's limit: ours are enforced while reading and answer a JSON
    // 413 (src/http/body.ts); Bun's own answers an empty 413 and must never be the one that fires.
    maxRequestBodySize: largestBodyLimit() * 4,
    idleTimeout: 0, // SSE streams send keepalives; per-request timeouts are ours
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
