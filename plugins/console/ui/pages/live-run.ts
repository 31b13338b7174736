import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { ErrorNote, Field, Json, Panel, formValues, useAction } from '../components'
import { readStream, type StreamEvent } from '../sse'

/**
 * Calls POST /api/run/:slug as a client would (with the endpoint's key) and shows the run as it streams:
 * text deltas, tool calls, usage. The key is never stored; it is used for this one request.
 */
export function LiveRun({ slug, apiKey, streaming, onDone }: { slug: string; apiKey?: string; streaming: boolean; onDone: () => void }) {
  const [events, setEvents] = useState<StreamEvent[]>([])
  const [text, setText] = useState('')
  const [result, setResult] = useState<unknown>(null)
  const call = useAction(async (v: Record<string, string>) => {
    setEvents([]); setText(''); setResult(null)
    const res = await fetch(`/api/run/${encodeURIComponent(slug)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${v.key}`, accept: streaming ? 'text/event-stream' : 'application/json' },
      body: JSON.stringify({ input: v.input }),
    })
    if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) {
      await readStream(res, (e) => {
        setEvents((list) => [...list, e])
        if (e.event === 'text.delta') setText((t) => t + (e.data?.text ?? ''))
      })
    } else {
      const body = await res.json().catch(() => null)
      if (!res.ok) throw new Error(body?.error ?? `Run failed (${res.status})`)
      setResult(body)
    }
    onDone()
  })
  const tools = events.filter((e) => e.event === 'tool.started' || e.event === 'tool.completed')
  const final = events.find((e) => e.event === 'run.completed' || e.event === 'run.failed')
  return html`<${Panel} title=${streaming ? 'Call it (streamed)' : 'Call it'}>
    <form onSubmit=${(e: Event) => call.run(formValues(e))}>
      <${Field} label="Endpoint key" hint="aek_…; used for this request only"><input name="key" type="password" autocomplete="off" required value=${apiKey ?? ''} /><//>
      <${Field} label="Input"><textarea name="input" rows="2" required></textarea><//>
      <button type="submit" disabled=${call.busy}>${call.busy ? 'Running…' : 'Call endpoint'}</button>
    </form>
    <${ErrorNote} error=${call.error} />
    ${events.length ? html`<div class="stream" aria-live="polite">
      <ol class="events">${events.filter((e) => e.event !== 'text.delta').map((e) => html`<li><code>${e.event}</code>${e.data?.tool ? html` <strong>${e.data.tool}</strong>` : null}</li>`)}</ol>
      <h3>Answer</h3><p class="answer" data-testid="stream-text">${text}</p>
      ${tools.length ? html`<p class="muted">${tools.filter((t) => t.event === 'tool.completed').length} tool calls</p>` : null}
      ${final ? html`<p>Final: <code>${final.event}</code>${final.data?.run_id ? html` · <a href=${`#/runs/${final.data.run_id}`}>open the run</a>` : null}</p>` : null}
    </div>` : null}
    ${result ? html`<${Json} value=${result} />` : null}
  <//>`
}
