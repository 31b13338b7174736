import { html } from 'htm/preact'
import { signal } from '@preact/signals'
import { useState } from 'preact/hooks'
import { api } from '../api'
import { Badge, ErrorNote, Field, Json, Loading, Page, Panel, SecretOnce, Table, formValues, useAction, useLoad } from '../components'
import { ago, cents } from '../format'
import { go, workspaceId } from '../state'
import { LiveRun } from './live-run'
import { NeedWorkspace } from './workspace'

interface Endpoint {
  id: string; name: string; slug: string; status: string; llm_provider: string; llm_model: string;
  run_url: string; enable_streaming: number; key_prefix: string; created_at: string; description: string | null;
  auth_mode: string;
}
interface Run {
  id: string; status: string; input: string; output: string | null; tokens_input: number; tokens_output: number;
  cost_cents: number; latency_ms: number; created_at: string; error: string | null;
}
interface Template { id: string; name: string; description: string; category: string }

/** Keys shown once at creation, kept in memory only (never stored) so "Try it" works right away. */
const freshKeys = signal<Record<string, string>>({})

const PROVIDERS = ['openai', 'anthropic', 'gemini', 'groq', 'workers-ai', 'custom']

export function Endpoints() {
  const list = useLoad(() => api<{ endpoints: Endpoint[] }>('/api/agent-endpoints'))
  const templates = useLoad(() => api<{ templates: Template[] }>('/api/agent-endpoints/templates/list'))
  const create = useAction(async (v: Record<string, string>) => {
    const body: Record<string, unknown> = { workspace_id: workspaceId.value, llm_provider: v.provider, llm_model: v.model, enable_streaming: v.streaming === 'on' }
    if (v.name) body.name = v.name
    if (v.system_prompt) body.system_prompt = v.system_prompt
    if (v.template_id) body.template_id = v.template_id
    const r = await api<{ endpoint: Endpoint; api_key: string }>('/api/agent-endpoints', { method: 'POST', body })
    freshKeys.value = { ...freshKeys.value, [r.endpoint.id]: r.api_key }
    go(`/endpoints/${r.endpoint.id}`)
  })
  return html`<${Page} title="Agent endpoints">
    <${NeedWorkspace}>
      <${Panel} title="New endpoint">
        <form class="grid" onSubmit=${(e: Event) => create.run(formValues(e))}>
          <${Field} label="Template" hint="Optional: fills the name and prompt">
            <select name="template_id"><option value="">None</option>${templates.data?.templates.map((t) => html`<option value=${t.id}>${t.name} (${t.category})</option>`)}</select><//>
          <${Field} label="Name"><input name="name" maxlength="100" /><//>
          <${Field} label="Provider"><select name="provider">${PROVIDERS.map((p) => html`<option>${p}</option>`)}</select><//>
          <${Field} label="Model"><input name="model" required value="gpt-4o-mini" /><//>
          <${Field} label="System prompt" hint="Required unless a template gives one"><textarea name="system_prompt" rows="3"></textarea><//>
          <label class="check"><input type="checkbox" name="streaming" /> Stream answers (SSE)</label>
          <button type="submit" disabled=${create.busy}>Create endpoint</button>
        </form>
        <${ErrorNote} error=${create.error} />
      <//>
    <//>
    <${ErrorNote} error=${list.error} />
    <${Table} label="Agent endpoints" rows=${list.data?.endpoints} empty="No agent endpoints yet."
      columns=${[
        { label: 'Name', render: (e: Endpoint) => html`<a href=${`#/endpoints/${e.id}`}>${e.name}</a>` },
        { label: 'Status', render: (e: Endpoint) => html`<${Badge} status=${e.status} />` },
        { label: 'Model', render: (e: Endpoint) => `${e.llm_provider} / ${e.llm_model}` },
        { label: 'URL', render: (e: Endpoint) => html`<code>POST /api/run/${e.slug}</code>` },
        { label: 'Created', render: (e: Endpoint) => ago(e.created_at) },
      ]} />
  <//>`
}

export function EndpointDetail({ id }: { id: string }) {
  const ep = useLoad(() => api<{ endpoint: Endpoint }>(`/api/agent-endpoints/${id}`), [id])
  const runs = useLoad(() => api<{ runs: Run[] }>(`/api/agent-endpoints/${id}/runs?limit=20`), [id])
  const [testResult, setTestResult] = useState<any>(null)
  const setStatus = useAction(async (to: 'activate' | 'deactivate') => {
    await api(`/api/agent-endpoints/${id}/${to}`, { method: 'POST' })
    ep.reload()
  })
  const regenerate = useAction(async () => {
    if (!confirm('Make a new key? The current one stops working at once.')) return
    const r = await api<{ api_key: string }>(`/api/agent-endpoints/${id}/regenerate-key`, { method: 'POST' })
    freshKeys.value = { ...freshKeys.value, [id]: r.api_key }
  })
  const test = useAction(async (v: Record<string, string>) => {
    setTestResult(await api(`/api/agent-endpoints/${id}/test`, { method: 'POST', body: { input: v.input } }))
    runs.reload()
  })
  const remove = useAction(async () => {
    if (!confirm('Delete this endpoint and its run history?')) return
    await api(`/api/agent-endpoints/${id}`, { method: 'DELETE' })
    go('/endpoints')
  })
  if (ep.error) return html`<${Page} title="Agent endpoint"><${ErrorNote} error=${ep.error} /><//>`
  const e = ep.data?.endpoint
  if (!e) return html`<${Page} title="Agent endpoint"><${Loading} /><//>`
  const key = freshKeys.value[id]
  return html`<${Page} title=${e.name} actions=${html`
      ${e.status === 'active'
        ? html`<button type="button" class="secondary" onClick=${() => setStatus.run('deactivate')}>Pause</button>`
        : html`<button type="button" onClick=${() => setStatus.run('activate')}>Activate</button>`}
      <button type="button" class="secondary" onClick=${() => regenerate.run()}>New key</button>
      <button type="button" class="danger" onClick=${() => remove.run()}>Delete</button>`}>
    <p><${Badge} status=${e.status} /> <code>POST ${e.run_url}</code> · ${e.llm_provider} / ${e.llm_model} · key <code>${e.key_prefix}…</code></p>
    ${key ? html`<${SecretOnce} label="Endpoint API key" value=${key} />` : null}
    <${ErrorNote} error=${setStatus.error || regenerate.error || remove.error} />
    <${Panel} title="Test">
      <form onSubmit=${(ev: Event) => test.run(formValues(ev))}>
        <${Field} label="Test input"><textarea name="input" rows="2" required></textarea><//>
        <button type="submit" disabled=${test.busy}>${test.busy ? 'Running…' : 'Run test'}</button>
      </form>
      <${ErrorNote} error=${test.error} />
      ${testResult ? html`<div class="result" aria-live="polite"><h3>Output</h3><${Json} value=${testResult.output} />
        <p class="muted">${testResult.tool_calls.length} tool calls · ${testResult.usage.tokens_input + testResult.usage.tokens_output} tokens
          · ${cents(testResult.usage.cost_cents)} · ${testResult.usage.latency_ms} ms · <a href=${`#/runs/${testResult.run_id}`}>run ${testResult.run_id}</a></p></div>` : null}
    <//>
    ${e.status === 'active' ? html`<${LiveRun} slug=${e.slug} apiKey=${key} streaming=${!!e.enable_streaming} onDone=${runs.reload} />` : html`
      <p class="muted">Activate the endpoint to call it over HTTP.</p>`}
    <${Panel} title="Runs">
      <${Table} label="Runs" rows=${runs.data?.runs} empty="No runs yet."
        columns=${[
          { label: 'Run', render: (r: Run) => html`<a href=${`#/runs/${r.id}`}>${r.id}</a>` },
          { label: 'Status', render: (r: Run) => html`<${Badge} status=${r.status} />` },
          { label: 'Tokens', render: (r: Run) => r.tokens_input + r.tokens_output },
          { label: 'Cost', render: (r: Run) => cents(r.cost_cents) },
          { label: 'Latency', render: (r: Run) => `${r.latency_ms} ms` },
          { label: 'When', render: (r: Run) => ago(r.created_at) },
        ]} />
    <//>
  <//>`
}
