import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { ApiError } from '../http/errors'
import type { ProviderName } from '../agent/types'
import { nextDelay, parseRetryAfter } from '../http/retry'
import type { RetryOptions } from './types'

/** Module defaults for retries; tests and surfaces may lower them (or pass `spec.retry`). */
export const retryDefaults: Required<RetryOptions> = { baseMs: 500, maxRetries: 3 }

/** The reason a signal was aborted, as an error the runtime understands. */
export function abortReason(signal: AbortSignal): Error {
  const r = signal.reason
  if (r instanceof Error) return r
  return new ApiError(499, 'The run was cancelled', 'cancelled')
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortReason(signal))
    const onAbort = () => { clearTimeout(timer); reject(abortReason(signal)) }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Seconds or an HTTP date in `retry-after`, or OpenAI's `retry-after-ms`; null when absent or unreadable (src/http/retry.ts). */
export const retryAfterMs = (headers: Headers, now = Date.now()): number | null => parseRetryAfter(headers, now)

function providerMessage(text: string): string {
  try {
    const j = JSON.parse(text)
    const m = j?.error?.message ?? j?.message ?? (typeof j?.error === 'string' ? j.error : null)
    if (typeof m === 'string' && m) return m.slice(0, 300)
  } catch { /* not JSON */ }
  return text.replace(/\s+/g, ' ').trim().slice(0, 200)
}

export interface PostOptions {
  provider: ProviderName
  signal: AbortSignal
  deadline: number
  retry?: RetryOptions
}

/**
 * POSTs to the provider with the failure mapping of issue 3: 401/403 -> 502 (key rejected); 429, 5xx and network
 * errors retried with exponential backoff honouring retry-after while the deadline allows, then 502; other 4xx ->
 * 502 with the provider's message. An aborted signal rethrows its reason (504 budget exhausted, 499 cancelled).
 */
export async function postLlm(url: string, headers: Record<string, string>, body: unknown, o: PostOptions): Promise<Response> {
  const baseMs = o.retry?.baseMs ?? retryDefaults.baseMs
  const maxRetries = o.retry?.maxRetries ?? retryDefaults.maxRetries
  const payload = JSON.stringify(body)
  for (let attempt = 0; ; attempt++) {
    let res: Response
    let failure: ApiError
    let wait: number | null = null
    try {
      res = await fetch(url, { method: 'POST', headers, body: payload, signal: o.signal })
    } catch (err) {
      if (o.signal.aborted) throw abortReason(o.signal)
      failure = new ApiError(502, `Could not reach the LLM provider (${o.provider}): ${(err as Error).message}`, 'llm_unreachable')
      res = undefined as never
    }
    if (res) {
      if (res.ok) return res
      const text = await res.text().catch(() => '')
      if (res.status === 401 || res.status === 403) {
        throw new ApiError(502, `The LLM provider rejected the API key (${o.provider} answered HTTP ${res.status})`, 'llm_auth_failed')
      }
      if (res.status !== 429 && res.status < 500) {
        throw new ApiError(502, `The LLM provider (${o.provider}) refused the request with HTTP ${res.status}: ${providerMessage(text)}`, 'llm_request_rejected')
      }
      wait = retryAfterMs(res.headers)
      failure = res.status === 429
        ? new ApiError(502, `The LLM provider (${o.provider}) is rate limiting requests (HTTP 429): ${providerMessage(text)}`, 'llm_rate_limited')
        : new ApiError(502, `The LLM provider (${o.provider}) failed with HTTP ${res.status}: ${providerMessage(text)}`, 'llm_upstream_error')
    }
    if (attempt >= maxRetries) throw failure!
    const delay = nextDelay(attempt, { baseMs }, wait)
    if (performance.now() + delay >= o.deadline) throw failure!
    await sleep(delay, o.signal)
  }
}

/** Reads an SSE body through eventsource-parser, calling `onMessage` synchronously for each message. */
export async function readSse(res: Response, signal: AbortSignal, onMessage: (e: EventSourceMessage) => void): Promise<void> {
  if (!res.body) return
  const reader = res.body.getReader()
  const decoder = new TextDecoder()
  const parser = createParser({ onEvent: onMessage })
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>
      try {
        chunk = await reader.read()
      } catch (err) {
        if (signal.aborted) throw abortReason(signal)
        throw new ApiError(502, `The LLM stream broke off: ${(err as Error).message}`, 'llm_stream_broken')
      }
      if (chunk.done) {
        parser.feed(decoder.decode())
        parser.reset({ consume: true })
        return
      }
      parser.feed(decoder.decode(chunk.value, { stream: true }))
    }
  } finally {
    reader.cancel().catch(() => {})
  }
}

export const malformed = (provider: ProviderName, why: string) =>
  new ApiError(502, `The LLM provider (${provider}) sent a malformed stream: ${why}`, 'llm_stream_malformed')

export function parseData(provider: ProviderName, data: string): any {
  try {
    return JSON.parse(data)
  } catch {
    throw malformed(provider, `data is not JSON (${data.slice(0, 60)})`)
  }
}

/** Tool-call arguments as an object; a string that is not a JSON object comes back with an error. */
export function parseArguments(raw: string): { args: Record<string, unknown>; error?: string } {
  if (!raw.trim()) return { args: {} }
  try {
    const v = JSON.parse(raw)
    if (v && typeof v === 'object' && !Array.isArray(v)) return { args: v }
    return { args: {}, error: 'arguments must be a JSON object' }
  } catch (err) {
    return { args: {}, error: `arguments are not valid JSON: ${(err as Error).message}` }
  }
}
