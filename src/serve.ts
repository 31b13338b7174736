import type { Kernel } from './kernel'
import { createApp } from './app'
import { largestBodyLimit } from './http/body'
import { flushTouched } from './auth/authenticate'

/** Starts the HTTP server and the background workers; returns a graceful stop. */
export function serve(k: Kernel, opts: { port?: number; host?: string } = {}) {
  const app = createApp(k)
  k.workers.register({
    name: 'auth.touch-flush',
    start() {
      const timer = setInterval(() => flushTouched(k), 5000)
      return () => { clearInterval(timer); flushTouched(k) }
    },
  })
  app.listen({
    port: opts.port ?? k.config.port,
    hostname: opts.host ?? k.config.host,
    // Backstop only: each route's own limit is enforced while reading (src/http/body.ts).
    maxRequestBodySize: largestBodyLimit() + 1024,
    idleTimeout: 0, // SSE streams send keepalives; per-request timeouts are ours
  })
  const server = app.server!
  k.workers.start()
  let stopping: Promise<void> | null = null
  const stop = () => (stopping ??= (async () => {
    const grace = new Promise<void>((r) => setTimeout(r, k.config.shutdownGraceMs).unref?.())
    await Promise.race([server.stop(false), grace])
    server.stop(true)
    await k.workers.stopAll()
    k.close()
  })())
  return { server, app, stop, url: `http://${server.hostname === '0.0.0.0' ? '127.0.0.1' : server.hostname}:${server.port}` }
}
