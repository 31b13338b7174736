import { html } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'
import { api, hasApi, qs } from '../api'
import { Badge, ErrorNote, Field, Json, Loading, Page, Panel, Table, useAction, useLoad } from '../components'
import { ago, cents, when } from '../format'
import { go } from '../state'
import { followRun, type StreamEvent } from '../sse'

/** An item of GET /api/runs (and of the live feed's run.updated events). */
interface RunRow {
  id: string; source: string; source_id: string | null; status: string; model: string | null; cost_cents: number;
  tokens_input: number; tokens_output: number; latency_ms: number; created_at: string; error: string | null;
}

const STATUSES = ['', 'queued', 'running', 'success', 'error', 'cancelled', 'test']
const SOURCES = ['', 'endpoint', 'bot', 'chat', 'workflow', 'schedule', 'task', 'openai', 'mcp']

type Filter = { status: string; source: string; agent: string }

/** A live item into the list: replaced in place, added when new and matching, dropped when it no longer matches the status filter. */
function merge(list: RunRow[], run: RunRow, filter: Filter): RunRow[] {
  const rest = list.filter((r) => r.id !== run.id)
  if (filter.status && run.status !== filter.status) return rest
  const at = list.findIndex((r) => r.id === run.id)
  if (at >= 0) return list.map((r) => (r.id === run.id ? run : r))
  return [run, ...rest].sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id < b.id ? 1 : -1))
}

export function Runs() {
  const [filter, setFilter] = useState<Filter>({ status: '', source: '', agent: '' })
  const [rows, setRows] = useState<RunRow[] | null>(null)
  const [cursor, setCursor] = useState<string | null>(null)
  const [error, setError] = useState<Error | null>(null)
  const query = (more: string | null) => qs({ status: filter.status, source: filter.source, source_id: filter.agent, limit: 50, cursor: more })
  // The first page, then live: the feed's run.updated events keep the list current (no polling).
  useEffect(() => {
    const abort = new AbortController()
    setRows(null)
    setError(null)
    api<{ runs: RunRow[]; next_cursor: string | null }>(`/api/runs${query(null)}`, { signal: abort.signal }).then(
      (r) => { setRows((live) => (live ?? []).reduce((list, run) => merge(list, run, filter), r.runs)); setCursor(r.next_cursor) },
      (err) => { if (!abort.signal.aborted) setError(err) },
    )
    const feed = new EventSource(`/api/runs/live${qs({ source: filter.source, source_id: filter.agent })}`)
    feed.addEventListener('run.updated', (msg) => {
      const { run } = JSON.parse((msg as MessageEvent).data) as { run: RunRow }
      setRows((list) => merge(list ?? [], run, filter))
    })
    return () => { abort.abort(); feed.close() }
  }, [filter.status, filter.source, filter.agent])
  const more = useAction(async () => {
    const r = await api<{ runs: RunRow[]; next_cursor: string | null }>(`/api/runs${query(cursor)}`)
    setRows((list) => [...(list ?? []), ...r.runs.filter((x) => !list?.some((y) => y.id === x.id))])
    setCursor(r.next_cursor)
  })
  const set = (key: keyof Filter) => (e: Event) => setFilter({ ...filter, [key]: (e.target as HTMLSelectElement).value })
  return html`<${Page} title="Runs">
    <form class="inline filters" onSubmit=${(e: Event) => e.preventDefault()}>
      <${Field} label="Status"><select value=${filter.status} onChange=${set('status')}>${STATUSES.map((s) => html`<option value=${s}>${s || 'any'}</option>`)}</select><//>
      <${Field} label="Source"><select value=${filter.source} onChange=${set('source')}>${SOURCES.map((s) => html`<option value=${s}>${s || 'any'}</option>`)}</select><//>
      <${Field} label="Agent id"><input value=${filter.agent} onChange=${set('agent')} placeholder="aep_… / bt_… / agt_…" /><//>
    </form>
    <${ErrorNote} error=${error || more.error} />
    ${!rows && !error ? html`<${Loading} />` : null}
    <${Table} label="Runs" rows=${rows} empty="No runs match."
      columns=${[
        { label: 'Run', render: (r: RunRow) => html`<a href=${`#/runs/${r.id}`}>${r.id}</a>` },
        { label: 'Source', render: (r: RunRow) => html`${r.source} <span class="muted">${r.source_id ?? ''}</span>` },
        { label: 'Status', render: (r: RunRow) => html`<${Badge} status=${r.status} />` },
        { label: 'Tokens in / out', render: (r: RunRow) => `${r.tokens_input} / ${r.tokens_output}` },
        { label: 'Cost', render: (r: RunRow) => cents(r.cost_cents) },
        { label: 'Latency', render: (r: RunRow) => `${r.latency_ms} ms` },
        { label: 'When', render: (r: RunRow) => ago(r.created_at) },
      ]} />
    ${cursor ? html`<button type="button" class="secondary" disabled=${more.busy} onClick=${() => more.run()}>Older runs</button>` : null}
  <//>`
}

export function RunDetail({ id }: { id: string }) {
  const run = useLoad(() => api<any>(`/api/runs/${id}`), [id])
  const [events, setEvents] = useState<StreamEvent[]>([])
  const live = run.data && (run.data.status === 'queued' || run.data.status === 'running')
  // The recorded events: replayed for a finished run, then followed live until the final one.
  const loaded = !!run.data
  useEffect(() => {
    if (!loaded) return
    setEvents([])
    return followRun(`/api/runs/${id}/events`, (e) => {
      setEvents((list) => [...list, e])
      if (e.event === 'run.completed' || e.event === 'run.failed') run.reload()
    })
  }, [id, loaded])
  const cancel = useAction(async () => {
    await api(`/api/runs/${id}/cancel`, { method: 'POST' })
    run.reload()
  })
  // Re-run: an endpoint run's input is in the endpoint's run history; it runs again as a test run.
  const endpointId: string | undefined = run.data?.endpoint_id
  const history = useLoad(async () => (endpointId ? api<{ runs: { id: string; input: string }[] }>(`/api/agent-endpoints/${endpointId}/runs?limit=100`) : null), [endpointId])
  const input = history.data?.runs.find((r) => r.id === id)?.input
  const rerun = useAction(async () => {
    const r = await api<{ run_id: string }>(`/api/agent-endpoints/${endpointId}/test`, { method: 'POST', body: { input } })
    go(`/runs/${r.run_id}`)
  })
  if (run.error) return html`<${Page} title="Run"><${ErrorNote} error=${run.error} /><//>`
  const r = run.data
  if (!r) return html`<${Page} title="Run"><${Loading} /><//>`
  const usage = r.usage ?? {}
  const streamedText = events.filter((e) => e.event === 'text.delta').map((e) => e.data?.text ?? '').join('')
  const actions = html`
    ${live && hasApi('/api/runs/{id}/cancel') ? html`<button type="button" class="danger" onClick=${() => cancel.run()}>Cancel run</button>` : null}
    ${!live && input !== undefined ? html`<button type="button" class="secondary" disabled=${rerun.busy} onClick=${() => rerun.run()}>Re-run as a test</button>` : null}`
  return html`<${Page} title=${`Run ${r.run_id ?? r.id}`} actions=${actions}>
    <p><${Badge} status=${r.status} /> ${r.source ?? 'endpoint'} ${r.endpoint_id ? html`
      <a href=${`#/endpoints/${r.endpoint_id}`}>${r.endpoint_id}</a>` : r.source_id ?? ''} · started ${when(r.started_at ?? r.created_at)} · finished ${when(r.finished_at)}</p>
    <${ErrorNote} error=${cancel.error || rerun.error} />
    ${input !== undefined ? html`<${Panel} title="Input"><${Json} value=${input} /><//>` : null}
    ${r.error ? html`<div class="note error"><strong>${r.code ?? 'error'}</strong>: ${r.error}</div>` : null}
    <div class="stats">
      <div class="stat"><div class="stat-label">Tokens in / out</div><div class="stat-value">${usage.tokens_input ?? 0} / ${usage.tokens_output ?? 0}</div></div>
      <div class="stat"><div class="stat-label">Cost</div><div class="stat-value">${cents(usage.cost_cents ?? 0)}</div></div>
      <div class="stat"><div class="stat-label">Latency</div><div class="stat-value">${usage.latency_ms ?? 0} ms</div></div>
    </div>
    ${r.output !== undefined ? html`<${Panel} title="Output"><${Json} value=${r.output} /><//>` : null}
    <${Panel} title="Tool calls">
      <${Table} label="Tool calls" rows=${r.tool_calls ?? []} empty="No tool calls."
        columns=${[
          { label: 'Tool', render: (t: any) => html`<code>${t.tool ?? t.name}</code>` },
          { label: 'Result', render: (t: any) => html`<${Badge} status=${t.success ? 'success' : 'error'} />` },
          { label: 'Latency', render: (t: any) => `${Math.round(t.latency_ms ?? 0)} ms` },
        ]} />
    <//>
    ${events.length ? html`<${Panel} title="Events">
      <ol class="events" aria-live="polite">${events.filter((e) => e.event !== 'text.delta').map((e) => html`<li><code>${e.event}</code> ${e.data?.tool ?? ''}</li>`)}</ol>
      ${streamedText ? html`<p class="answer">${streamedText}</p>` : null}<//>` : null}
  <//>`
}
