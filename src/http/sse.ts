import type { Kernel } from '../kernel'
import { ApiError } from './errors'

/**
 * The SSE writer for every stream (DESIGN §6): `id:` increasing per stream, `event: <type>`, `data: <json>` whose
 * JSON repeats `type`, a `: keepalive` comment every 15 s, the headers proxies need. When the client goes away
 * (the body is cancelled or `opts.signal` aborts) the producer is stopped with `return()` — for a runtime
 * `run()` that cancels the run and its upstream LLM request — and `onClose` runs. A producer that throws ends
 * the stream with a `run.failed` event.
 *
 *   const events = run(k, spec, { message }, { signal: request.signal, runId })
 *   return sseResponse(k, events, { signal: request.signal, onEvent: (id, e) => record(id, e) })
 */

export interface SseEvent { type: string; [key: string]: unknown }

export interface SseOptions {
  /** The client's request signal: aborting it ends the stream like a disconnect. */
  signal?: AbortSignal
  /** Runs once when the stream ends for any reason (finished, failed, client gone). */
  onClose?: () => void
  /** The first event id (resumed streams continue numbering). Default 1. */
  firstId?: number
  /** Called for each event as it is sent, with its id (for recording and Last-Event-ID resume). */
  onEvent?: (id: number, e: SseEvent) => void
  /** Keepalive comment interval; default 15,000 ms (tests lower it). */
  keepaliveMs?: number
  /** Extra response headers. */
  headers?: Record<string, string>
}

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  'X-Accel-Buffering': 'no',
} as const

const enc = new TextEncoder()
const checkedTypes = new Set<string>()

/** One SSE frame. Refuses newlines in `event` and `id` (they would forge fields); splits multi-line data. */
export function formatSse(fields: { id?: string | number; event?: string; data: string }): string {
  let out = ''
  if (fields.id !== undefined) {
    const id = String(fields.id)
    if (/[\r\n]/.test(id)) throw new Error('SSE id must not contain a newline')
    out += `id: ${id}\n`
  }
  if (fields.event !== undefined) {
    if (/[\r\n]/.test(fields.event)) throw new Error('SSE event name must not contain a newline')
    out += `event: ${fields.event}\n`
  }
  if (!/[\r\n]/.test(fields.data)) return `${out}data: ${fields.data}\n\n`
  for (const line of fields.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`
  return out + '\n'
}

export function sseResponse(k: Kernel, events: AsyncIterable<SseEvent>, opts: SseOptions = {}): Response {
  const { keepaliveMs = 15_000 } = opts
  const iterator = events[Symbol.asyncIterator]()
  let id = opts.firstId ?? 1
  let closed = false
  let timer: ReturnType<typeof setInterval> | null = null
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let runId: unknown
  let terminal = false

  const cleanup = (clientGone: boolean) => {
    if (closed) return
    closed = true
    if (timer) clearInterval(timer)
    k.metrics.sseOpen--
    opts.signal?.removeEventListener('abort', onAbort)
    if (clientGone) iterator.return?.().catch(() => {})
    try { opts.onClose?.() } catch (err) { k.log.warn('sse onClose failed', { error: String(err) }) }
  }
  const onAbort = () => {
    if (closed) return
    cleanup(true)
    try { controller.close() } catch { /* already closed */ }
  }
  const write = (s: string) => {
    if (closed) return
    try { controller.enqueue(enc.encode(s)) } catch { cleanup(true) }
  }
  const send = (e: SseEvent) => {
    // JSON.stringify never emits a raw newline, so data is one line; event names are checked once per name.
    if (!checkedTypes.has(e.type)) {
      formatSse({ event: e.type, data: '' })
      if (checkedTypes.size > 256) checkedTypes.clear()
      checkedTypes.add(e.type)
    }
    const frame = `id: ${id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`
    opts.onEvent?.(id, e)
    id++
    write(frame)
    if (e.type === 'run.completed' || e.type === 'run.failed') terminal = true
    if (runId === undefined && typeof e.run_id === 'string') runId = e.run_id
  }

  async function pump() {
    try {
      for (;;) {
        const r = await iterator.next()
        if (r.done || closed) break
        send(r.value)
      }
    } catch (err) {
      if (!closed && !terminal) {
        const api = err instanceof ApiError ? err : null
        if (!api) k.log.error('sse producer failed', { error: String((err as Error)?.stack ?? err) })
        send({
          type: 'run.failed', ...(runId !== undefined ? { run_id: runId } : {}),
          error: api ? api.message : 'The stream failed unexpectedly', code: api ? api.code : 'internal_error', status: api ? api.status : 500,
        })
      }
    } finally {
      if (!closed) {
        cleanup(false)
        try { controller.close() } catch { /* already closed */ }
      }
    }
  }

  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c
      k.metrics.sseOpen++
      if (opts.signal?.aborted) { queueMicrotask(onAbort); return }
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      timer = setInterval(() => write(': keepalive\n\n'), keepaliveMs)
      ;(timer as { unref?: () => void }).unref?.()
      void pump()
    },
    cancel() { cleanup(true) },
  })
  return new Response(body, { headers: { ...SSE_HEADERS, ...opts.headers } })
}
