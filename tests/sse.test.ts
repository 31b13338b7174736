import { afterAll, describe, expect, test } from 'bun:test'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { testApp } from './helpers'
import { startFakeLlm } from './fixtures/fake-llm'
import { formatSse, sseResponse, type SseEvent } from '../src/http/sse'
import { ApiError } from '../src/http/errors'
import { run } from '../src/agent/run'

/** The SSE writer, read back with eventsource-parser, in memory and over real HTTP with the runtime. */

const fake = await startFakeLlm()
const t = testApp({ env: { OPENAI_BASE_URL: fake.openaiBase, OPENAI_API_KEY: 'sk-test' } })
afterAll(() => { t.close(); fake.close() })

async function readAll(res: Response) {
  const events: EventSourceMessage[] = []
  const comments: string[] = []
  const parser = createParser({ onEvent: (e) => { events.push(e) }, onComment: (c) => { comments.push(c) } })
  parser.feed(await res.text())
  return { events, comments }
}

describe('sseResponse', () => {
  test('frames: increasing ids, event names, type repeated in data, headers, open-stream gauge', async () => {
    const seen: number[] = []
    async function* producer(): AsyncGenerator<SseEvent> {
      seen.push(t.k.metrics.sseOpen)
      yield { type: 'run.started', run_id: 'run_1', endpoint_id: 'aep_1' }
      yield { type: 'text.delta', run_id: 'run_1', text: 'line one\nline two' }
      yield { type: 'run.completed', run_id: 'run_1', result: { output: 'x' } }
    }
    const res = sseResponse(t.k, producer())
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    const { events } = await readAll(res)
    expect(events.map((e) => [e.id, e.event])).toEqual([['1', 'run.started'], ['2', 'text.delta'], ['3', 'run.completed']])
    for (const e of events) expect(JSON.parse(e.data).type).toBe(e.event)
    expect(JSON.parse(events[1].data).text).toBe('line one\nline two')
    expect(JSON.parse(events[0].data).endpoint_id).toBe('aep_1')
    expect(seen).toEqual([1])
    expect(t.k.metrics.sseOpen).toBe(0)
  })

  test('firstId continues numbering and onEvent sees every event with its id; onClose runs once', async () => {
    const recorded: Array<[number, string]> = []
    let closes = 0
    async function* producer(): AsyncGenerator<SseEvent> {
      yield { type: 'text.delta', text: 'a' }
      yield { type: 'run.completed', result: {} }
    }
    const { events } = await readAll(sseResponse(t.k, producer(), { firstId: 10, onEvent: (id, e) => recorded.push([id, e.type]), onClose: () => closes++ }))
    expect(events.map((e) => e.id)).toEqual(['10', '11'])
    expect(recorded).toEqual([[10, 'text.delta'], [11, 'run.completed']])
    expect(closes).toBe(1)
  })

  const throwing = [
    { name: 'ApiError keeps its status and code', err: new ApiError(502, 'The LLM provider rejected the API key', 'llm_auth_failed'), status: 502, code: 'llm_auth_failed', error: 'The LLM provider rejected the API key' },
    { name: 'other errors become a generic 500', err: new Error('secret internals'), status: 500, code: 'internal_error', error: 'The stream failed unexpectedly' },
  ]
  for (const c of throwing) {
    test(`producer throws: run.failed ends the stream (${c.name})`, async () => {
      async function* producer(): AsyncGenerator<SseEvent> {
        yield { type: 'run.started', run_id: 'run_9' }
        throw c.err
      }
      const { events } = await readAll(sseResponse(t.k, producer()))
      expect(events.map((e) => e.event)).toEqual(['run.started', 'run.failed'])
      expect(JSON.parse(events[1].data)).toEqual({ type: 'run.failed', run_id: 'run_9', error: c.error, code: c.code, status: c.status })
      expect(events[1].id).toBe('2')
    })
  }

  test('producer that throws before its first event (config error) still yields run.failed', async () => {
    async function* producer(): AsyncGenerator<SseEvent> { throw new ApiError(400, 'No API key for the openai provider', 'llm_key_missing') }
    const { events } = await readAll(sseResponse(t.k, producer()))
    expect(events.map((e) => e.event)).toEqual(['run.failed'])
    expect(JSON.parse(events[0].data)).toMatchObject({ code: 'llm_key_missing', status: 400 })
  })

  test('keepalive comments go out on the injected interval', async () => {
    let sawComment!: () => void
    const commented = new Promise<void>((r) => { sawComment = r })
    async function* producer(): AsyncGenerator<SseEvent> {
      yield { type: 'run.started', run_id: 'r' }
      await commented
      yield { type: 'run.completed', run_id: 'r', result: {} }
    }
    const res = sseResponse(t.k, producer(), { keepaliveMs: 5 })
    const reader = res.body!.getReader()
    const events: EventSourceMessage[] = []
    const comments: string[] = []
    const parser = createParser({ onEvent: (e) => { events.push(e) }, onComment: (c) => { comments.push(c); sawComment() } })
    const dec = new TextDecoder()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      parser.feed(dec.decode(value, { stream: true }))
    }
    expect(comments[0].trim()).toBe('keepalive')
    expect(events.map((e) => e.event)).toEqual(['run.started', 'run.completed'])
  })

  test('client goes away: the producer is stopped, onClose runs, the gauge drops', async () => {
    let finalized = false
    let closed!: () => void
    const onClose = new Promise<void>((r) => { closed = r })
    async function* producer(): AsyncGenerator<SseEvent> {
      try {
        yield { type: 'run.started', run_id: 'r' }
        for (let i = 0; ; i++) yield { type: 'text.delta', run_id: 'r', text: String(i) }
      } finally { finalized = true }
    }
    const res = sseResponse(t.k, producer(), { onClose: () => closed() })
    const reader = res.body!.getReader()
    await reader.read()
    expect(t.k.metrics.sseOpen).toBe(1)
    await reader.cancel()
    await onClose
    expect(t.k.metrics.sseOpen).toBe(0)
    // the generator was suspended at a yield, so return() runs its finally block
    await new Promise((r) => setImmediate(r))
    expect(finalized).toBe(true)
  })

  test('the request signal aborting ends the stream the same way', async () => {
    const ac = new AbortController()
    let closes = 0
    async function* producer(): AsyncGenerator<SseEvent> {
      yield { type: 'run.started', run_id: 'r' }
      ac.abort()
      yield { type: 'text.delta', run_id: 'r', text: 'never sent' }
    }
    const { events } = await readAll(sseResponse(t.k, producer(), { signal: ac.signal, onClose: () => closes++ }))
    expect(events.map((e) => e.event)).toEqual(['run.started'])
    expect(closes).toBe(1)
    expect(t.k.metrics.sseOpen).toBe(0)
  })

  test('an event name with a newline is refused and the stream ends with run.failed', async () => {
    async function* producer(): AsyncGenerator<SseEvent> {
      yield { type: 'run.started', run_id: 'r' }
      yield { type: 'evil\nevent: forged', run_id: 'r' }
    }
    const { events } = await readAll(sseResponse(t.k, producer()))
    expect(events.map((e) => e.event)).toEqual(['run.started', 'run.failed'])
    expect(JSON.parse(events[1].data)).toMatchObject({ code: 'internal_error', status: 500 })
  })

  test('formatSse refuses newlines in event and id, and splits multi-line data', () => {
    expect(() => formatSse({ event: 'a\nb', data: 'x' })).toThrow('newline')
    expect(() => formatSse({ id: '1\r', data: 'x' })).toThrow('newline')
    expect(formatSse({ id: 3, event: 'text.delta', data: 'a\nb' })).toBe('id: 3\nevent: text.delta\ndata: a\ndata: b\n\n')
  })
})

describe('runtime over real HTTP SSE', () => {
  const server = Bun.serve({
    port: 0, hostname: '127.0.0.1', idleTimeout: 0,
    fetch(req) {
      const events = run(t.k, { systemPrompt: 's', provider: 'openai', model: 'gpt-4o-mini', ownerId: 'u' }, { message: 'hi' }, { signal: req.signal, runId: 'run_http' })
      return sseResponse(t.k, events, { signal: req.signal })
    },
  })
  afterAll(() => server.stop(true))

  test('a streamed run arrives as DESIGN §6 events ending in run.completed', async () => {
    fake.reset()
    fake.reply({ text: 'Hello over SSE', usage: { input: 3, output: 3 } })
    const res = await fetch(`http://127.0.0.1:${server.port}/`)
    const { events } = await readAll(res)
    expect(events.map((e) => e.event)).toEqual(['run.started', 'text.delta', 'text.delta', 'text.delta', 'usage', 'run.completed'])
    expect(events.map((e) => Number(e.id))).toEqual([1, 2, 3, 4, 5, 6])
    expect(JSON.parse(events[0].data).run_id).toBe('run_http')
    expect(JSON.parse(events.at(-1)!.data).result.text).toBe('Hello over SSE')
  })

  test('the client disconnecting mid-stream cancels the upstream LLM request', async () => {
    fake.reset()
    fake.reply({ text: 'a b c d e f g h i j k l m n o p', tokenDelayMs: 100 })
    const ac = new AbortController()
    const res = await fetch(`http://127.0.0.1:${server.port}/`, { signal: ac.signal })
    const reader = res.body!.getReader()
    const dec = new TextDecoder()
    let text = ''
    while (!text.includes('event: text.delta')) text += dec.decode((await reader.read()).value!, { stream: true })
    ac.abort()
    await fake.waitForAbort(0)
    expect(fake.requests[0].aborted).toBe(true)
  })
})
