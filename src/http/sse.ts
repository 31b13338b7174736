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

const checkedTypes = new Set<string>()

/**
 * A `text.delta` event (the token path). It is an ordinary object with the same keys in the same order as
 * `{ type, run_id, text }`, but the SSE writer frames it from a per-stream cached prefix plus
 * `JSON.stringify(text)` instead of stringifying the whole object. Treat it as read-only: the writer does not
 * look for keys added later.
 */
export class TextDeltaEvent {
  declare type: 'text.delta'
  declare run_id: string
  declare text: string
  constructor(runId: string, text: string) {
    this.type = 'text.delta'
    this.run_id = runId
    this.text = text
  }
}

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

const peekStatus = (globalThis as { Bun?: typeof Bun }).Bun?.peek.status

export function sseResponse(k: Kernel, events: AsyncIterable<SseEvent>, opts: SseOptions = {}): Response {
  const { keepaliveMs = 15_000 } = opts
  const iterator = events[Symbol.asyncIterator]()
  let id = opts.firstId ?? 1
  let closed = false
  let timer: ReturnType<typeof setInterval> | null = null
  let controller: ReadableStreamDirectController | undefined
  let pulled = false
  let runId: unknown
  let terminal = false
  /** Frames not yet written: events that were already available go out together in one write. */
  let buf = ''
  /** Cached `\nevent: text.delta\ndata: {"type":"text.delta","run_id":"...","text":` for deltaRun. */
  let deltaRun: string | undefined
  let deltaMid = ''

  const cleanup = (clientGone: boolean) => {
    if (closed) return
    closed = true
    if (clientGone) buf = ''
    if (timer) clearInterval(timer)
    k.metrics.sseOpen--
    opts.signal?.removeEventListener('abort', onAbort)
    if (clientGone) iterator.return?.().catch(() => {})
    try { opts.onClose?.() } catch (err) { k.log.warn('sse onClose failed', { error: String(err) }) }
  }
  const onAbort = () => {
    if (closed) return
    flush() // what was already framed (onEvent saw it) still goes out before the end
    cleanup(true)
    try { controller?.close() } catch { /* already closed */ }
  }
  const flush = () => {
    if (closed || !buf || !controller) return
    const s = buf
    buf = ''
    try {
      controller.write(s)
      const f = controller.flush()
      if (typeof f === 'object') f.then(undefined, () => cleanup(true))
    } catch { cleanup(true) }
  }
  const write = (s: string) => {
    if (closed || !controller) return
    buf += s
    flush()
  }
  const send = (e: SseEvent) => {
    let frame: string
    if (e instanceof TextDeltaEvent) {
      if (e.run_id !== deltaRun) {
        deltaRun = e.run_id
        if (runId === undefined) runId = e.run_id
        deltaMid = `\nevent: text.delta\ndata: {"type":"text.delta","run_id":${JSON.stringify(e.run_id)},"text":`
      }
      frame = `id: ${id}${deltaMid}${JSON.stringify(e.text)}}\n\n`
    } else {
      // JSON.stringify never emits a raw newline, so data is one line; event names are checked once per name.
      if (!checkedTypes.has(e.type)) {
        formatSse({ event: e.type, data: '' })
        if (checkedTypes.size > 256) checkedTypes.clear()
        checkedTypes.add(e.type)
      }
      frame = `id: ${id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`
      if (e.type === 'run.completed' || e.type === 'run.failed') terminal = true
      if (runId === undefined && typeof e.run_id === 'string') runId = e.run_id
    }
    opts.onEvent?.(id, e)
    id++
    if (!closed) buf += frame
  }

  async function pump() {
    try {
      for (let inline = 0; ; inline++) {
        const p = iterator.next()
        // Events the producer already has are framed into one buffer, written when the producer makes us wait
        // (or every 64 events / 64 KB, so a fast producer cannot hold the event loop).
        let r: IteratorResult<SseEvent>
        if (peekStatus?.(p) === 'fulfilled' && (inline & 63) !== 63 && buf.length < 65_536) r = Bun.peek(p) as IteratorResult<SseEvent>
        else {
          flush()
          r = await p
        }
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
        flush()
        cleanup(false)
        try { controller?.close() } catch { /* already closed */ }
      }
    }
  }

  // A direct stream (Bun): frames go straight to the response sink as strings, with no queue and no
  // TextEncoder. Bun.serve calls pull() once; an in-process reader may call it again after it settled (ignored).
  const source: Bun.DirectUnderlyingSource = {
    type: 'direct',
    pull(c) {
      if (pulled) return
      pulled = true
      controller = c
      if (!closed) return flush()
      // The producer finished before the body was pulled: send what it framed, then end.
      try {
        if (buf) { c.write(buf); buf = ''; void c.flush() }
        c.close()
      } catch { /* client already gone */ }
    },
    cancel() { cleanup(true) },
  }
  const body = new ReadableStream(source as unknown as UnderlyingDefaultSource<Uint8Array>)
  k.metrics.sseOpen++
  if (opts.signal?.aborted) queueMicrotask(onAbort)
  else {
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    timer = setInterval(() => write(': keepalive\n\n'), keepaliveMs)
    ;(timer as { unref?: () => void }).unref?.()
    // The producer starts now (a run is already running); frames wait in `buf` until the body is pulled.
    void pump()
  }
  return new Response(body, { headers: { ...SSE_HEADERS, ...opts.headers } })
}
