import { createParser } from 'eventsource-parser'

export interface StreamEvent { event: string; data: any; id?: string }

/**
 * Reads a text/event-stream answer (DESIGN §6) from fetch, so a POST (or a request with an API key
 * header, which EventSource cannot send) can be watched live. Resolves when the stream ends.
 */
export async function readStream(res: Response, onEvent: (e: StreamEvent) => void) {
  if (!res.body) return
  const parser = createParser({
    onEvent(msg) {
      let data: any = msg.data
      try { data = JSON.parse(msg.data) } catch { /* plain text data */ }
      onEvent({ event: msg.event ?? data?.type ?? 'message', data, id: msg.id })
    },
  })
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    parser.feed(value)
  }
}

/** A recorded run's events over EventSource (cookie session); closes on the final event or a 204. */
export function followRun(url: string, onEvent: (e: StreamEvent) => void): () => void {
  const source = new EventSource(url)
  const names = ['run.started', 'text.delta', 'tool.started', 'tool.completed', 'usage', 'run.completed', 'run.failed', 'step.started', 'step.completed', 'step.failed']
  for (const name of names) {
    source.addEventListener(name, (msg) => {
      let data: any = (msg as MessageEvent).data
      try { data = JSON.parse(data) } catch { /* keep text */ }
      onEvent({ event: name, data, id: (msg as MessageEvent).lastEventId })
      if (name === 'run.completed' || name === 'run.failed') source.close()
    })
  }
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) source.close() }
  return () => source.close()
}
