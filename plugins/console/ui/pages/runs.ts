import { html } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'
import { api, ensureApiPaths, hasApi, qs } from '../api'
import { Badge, ErrorNote, Field, Json, Loading, Page, Panel, Table, useAction, useInterval, useLoad } from '../components'
import { ago, cents, when } from '../format'
import { go } from '../state'
import { followRun, type StreamEvent } from '../sse'

interface RunRow {
  id: string; source: string; source_id: string | null; status: string; cost_cents: number; tokens: number;
  latency_ms: number; created_at: string; error: string | null;
}

const STATUSES = ['', 'queued', 'running', 'success', 'error', 'cancelled', 'test']
const SOURCES = ['', 'endpoint', 'bot', 'chat', 'workflow', 'schedule', 'task', 'openai', 'mcp']

/** The unified runs list when the server has it; otherwise every agent endpoint's runs, merged. */
async function loadRuns(filter: { status: string; source: string; agent: string }, signal: AbortSignal): Promise<RunRow[]> {
  await ensureApiPaths()
  if (hasApi('/api/runs')) {
    const query = qs({ status: filter.status, source: filter.source, source_id: filter.agent, limit: 100 })
    const r = await api<{ runs: any[] }>(`/api/runs${query}`, { signal })
    return r.runs.map((run) => ({
      id: run.id, source: run.source ?? 'endpoint', source_id: run.source_id ?? run.endpoint_id ?? null, status: run.status,
      cost_cents: run.cost_cents ?? (run.cost_micro ?? 0) / 1_000_000, tokens: (run.tokens_input ?? run.usage?.tokens_input ?? 0) + (run.tokens_output ?? run.usage?.tokens_output ?? 0),
      latency_ms: run.latency_ms ?? 0, created_at: run.created_at, error: run.error ?? null,
    }))
  }
  if (filter.source && filter.source !== 'endpoint') return []
  const { endpoints } = await api<{ endpoints: { id: string; name: string }[] }>('/api/agent-endpoints', { signal })
  const chosen = filter.agent ? endpoints.filter((e) => e.id === filter.agent) : endpoints
  const lists = await Promise.all(chosen.map((e) => api<{ runs: any[] }>(`/api/agent-endpoints/${e.id}/runs?limit=50`, { signal })))
  return lists.flatMap((l) => l.runs)
    .filter((r) => !filter.status || r.status === filter.status)
    .map((r) => ({
      id: r.id, source: 'endpoint', source_id: r.endpoint_id, status: r.status, cost_cents: r.cost_cents,
      tokens: r.tokens_input + r.tokens_output, latency_ms: r.latency_ms, created_at: r.created_at, error: r.error,
    }))
    .sort((a, b) => b.created_at.localeCompare(a.created_at))
    .slice(0, 100)
}

export function Runs() {
  const [filter, setFilter] = useState({ status: '', source: '', agent: '' })
  const runs = useLoad((signal) => loadRuns(filter, signal), [filter.status, filter.source, filter.agent])
  // Live: refreshed every few seconds while the tab is visible.
  useInterval(runs.reload, 3000)
  const set = (key: keyof typeof filter) => (e: Event) => setFilter({ ...filter, [key]: (e.target as HTMLSelectElement).value })
  return html`<${Page} title="Runs">
    <form class="inline filters" onSubmit=${(e: Event) => e.preventDefault()}>
      <${Field} label="Status"><select value=${filter.status} onChange=${set('status')}>${STATUSES.map((s) => html`<option value=${s}>${s || 'any'}</option>`)}</select><//>
      <${Field} label="Source"><select value=${filter.source} onChange=${set('source')}>${SOURCES.map((s) => html`<option value=${s}>${s || 'any'}</option>`)}</select><//>
      <${Field} label="Agent id"><input value=${filter.agent} onChange=${set('agent')} placeholder="aep_… / bt_… / agt_…" /><//>
    </form>
    ${hasApi('/api/runs') ? null : html`<p class="muted">Showing agent endpoint runs (this server has no unified runs list).</p>`}
    <${ErrorNote} error=${runs.error} />
    ${runs.loading && !runs.data ? html`<${Loading} />` : null}
    <${Table} label="Runs" rows=${runs.data} empty="No runs match."
      columns=${[
        { label: 'Run', render: (r: RunRow) => html`<a href=${`#/runs/${r.id}`}>${r.id}</a>` },
        { label: 'Source', render: (r: RunRow) => html`${r.source} <span class="muted">${r.source_id ?? ''}</span>` },
        { label: 'Status', render: (r: RunRow) => html`<${Badge} status=${r.status} />` },
        { label: 'Tokens', render: (r: RunRow) => r.tokens },
        { label: 'Cost', render: (r: RunRow) => cents(r.cost_cents) },
        { label: 'Latency', render: (r: RunRow) => `${r.latency_ms} ms` },
        { label: 'When', render: (r: RunRow) => ago(r.created_at) },
      ]} />
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
