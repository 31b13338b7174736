import type { RunEvent } from '../../src/agent/types'
import { SSE_HEADERS } from '../../src/http/sse'
import { chunk, toolActivity, usageChunk, usageOf } from './service'
import { toOpenAiError } from './errors'
import { ApiError } from '../../src/http/errors'

/**
 * OpenAI's streaming wire format: `data: <chat.completion.chunk>` lines, the role first, content deltas,
 * a final chunk with `finish_reason`, the usage chunk when asked for, then `data: [DONE]`. A run that fails
 * after the stream started sends `data: {"error": {...}}` (the SDKs raise it) and ends without [DONE].
 * The client going away cancels the run (its iterator's return()).
 */
export function completionStream(events: AsyncIterable<RunEvent>, meta: { id: string; created: number; model: string; includeUsage: boolean }, headers: Record<string, string>): Response {
  const { id, created, model, includeUsage } = meta
  const it = events[Symbol.asyncIterator]()
  const enc = new TextEncoder()
  const frame = (o: unknown) => enc.encode(`data: ${JSON.stringify(o)}\n\n`)
  let keepalive: ReturnType<typeof setInterval> | undefined
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(frame(chunk(id, created, model, { role: 'assistant', content: '', refusal: null }, null, includeUsage)))
      keepalive = setInterval(() => { try { controller.enqueue(enc.encode(': keepalive\n\n')) } catch { /* closed */ } }, 15_000)
    },
    async pull(controller) {
      try {
        for (;;) {
          const r = await it.next()
          if (r.done) { clearInterval(keepalive); controller.close(); return }
          const e = r.value
          if (e.type === 'text.delta') { controller.enqueue(frame(chunk(id, created, model, { content: e.text }, null, includeUsage))); return }
          const activity = toolActivity(e)
          if (activity) { controller.enqueue(frame(chunk(id, created, model, { reasoning_content: activity }, null, includeUsage))); return }
          if (e.type === 'run.completed') {
            controller.enqueue(frame(chunk(id, created, model, {}, 'stop', includeUsage)))
            if (includeUsage) controller.enqueue(frame(usageChunk(id, created, model, usageOf(e.result.usage))))
            controller.enqueue(enc.encode('data: [DONE]\n\n'))
            clearInterval(keepalive)
            controller.close()
            return
          }
          if (e.type === 'run.failed') {
            controller.enqueue(frame(toOpenAiError(new ApiError(e.status, e.error, e.code))))
            clearInterval(keepalive)
            controller.close()
            return
          }
        }
      } catch (err) {
        controller.enqueue(frame(toOpenAiError(err instanceof ApiError ? err : new ApiError(500, String((err as Error)?.message ?? err), 'internal_error'))))
        clearInterval(keepalive)
        controller.close()
      }
    },
    async cancel() {
      clearInterval(keepalive)
      await it.return?.()
    },
  })
  return new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...headers } })
}
