import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { api, hasApi, items, one } from '../api'
import { Badge, ErrorNote, Field, Json, Loading, Needs, Page, Panel, Table, formValues, useAction, useLoad } from '../components'
import { ago, when } from '../format'
import { go } from '../state'

interface Workflow {
  id: string; name: string; description?: string; status: string; version: number; trigger_type?: string;
  steps?: Step[]; updated_at: string;
}
interface Step { id: string; name?: string; type: string }
interface Execution {
  id: string; status: string; workflow_id?: string; version?: number; started_at?: string; created_at?: string;
  finished_at?: string | null; error?: string | null; steps?: Attempt[]; step_attempts?: Attempt[];
  output?: unknown;
}
interface Attempt {
  step_id: string; attempt?: number; status: string; input?: unknown; output?: unknown; error?: string | null;
  started_at?: string; finished_at?: string | null;
}

const execId = (x: any) => x?.execution_id ?? x?.id

function WorkflowList() {
  const list = useLoad(() => api('/api/workflows'))
  const create = useAction(async (v: Record<string, string>) => {
    const r = await api('/api/workflows', { method: 'POST', body: { description: v.description, ...(v.name ? { name: v.name } : {}) } })
    go(`/workflows/${(one(r, 'workflow') as Workflow).id}`)
  })
  return html`
    <${Panel} title="Describe a new workflow">
      <form onSubmit=${(e: Event) => create.run(formValues(e))}>
        <${Field} label="What should it do?"><textarea name="description" rows="3" required></textarea><//>
        <${Field} label="Name" hint="Optional"><input name="name" maxlength="100" /><//>
        <button type="submit" disabled=${create.busy}>${create.busy ? 'Generating…' : 'Generate workflow'}</button>
      </form>
      <${ErrorNote} error=${create.error} />
    <//>
    <${ErrorNote} error=${list.error} />
    <${Table} label="Workflows" rows=${list.data ? items<Workflow>(list.data, 'workflows') : null} empty="No workflows yet."
      columns=${[
        { label: 'Name', render: (w: Workflow) => html`<a href=${`#/workflows/${w.id}`}>${w.name}</a>` },
        { label: 'Status', render: (w: Workflow) => html`<${Badge} status=${w.status} />` },
        { label: 'Version', render: (w: Workflow) => w.version },
        { label: 'Trigger', render: (w: Workflow) => w.trigger_type ?? 'manual' },
        { label: 'Updated', render: (w: Workflow) => ago(w.updated_at) },
      ]} />`
}

/** One execution with every step attempt; a step opens to its input, output and error. */
function ExecutionView({ id }: { id: string }) {
  const x = useLoad(() => api(`/api/workflows/executions/${id}`), [id])
  const [open, setOpen] = useState<number | null>(null)
  if (x.error) return html`<${ErrorNote} error=${x.error} />`
  if (!x.data) return html`<${Loading} />`
  const e = one(x.data, 'execution') as Execution
  const attempts = e.step_attempts ?? e.steps ?? []
  return html`<div class="execution">
    <h3>Execution <code>${execId(e)}</code> <${Badge} status=${e.status} /></h3>
    ${e.error ? html`<p class="note error">${e.error}</p>` : null}
    <ol class="steps">${attempts.map((a, i) => html`<li>
      <button type="button" class="link" aria-expanded=${open === i} onClick=${() => setOpen(open === i ? null : i)}>${a.step_id}${a.attempt ? ` (attempt ${a.attempt})` : ''}</button> <${Badge} status=${a.status} />
      ${open === i ? html`<div class="step-detail"><h4>Input</h4><${Json} value=${a.input ?? null} /><h4>Output</h4>
        <${Json} value=${a.output ?? null} />${a.error ? html`<p class="note error">${a.error}</p>` : null}</div>` : null}
    </li>`)}</ol>
  </div>`
}

interface Version { version: number; current?: boolean; steps: Step[]; created_at: string }

/** The steps of the current version, or of an earlier one chosen from the version list. */
function Steps({ id, current }: { id: string; current: Workflow }) {
  const versions = useLoad(async () => (hasApi('/api/workflows/{id}/versions') ? items<Version>(await api(`/api/workflows/${id}/versions`), 'versions') : []), [id, current.version])
  const [chosen, setChosen] = useState<number | null>(null)
  const shown = versions.data?.find((v) => v.version === chosen)
  const steps = shown?.steps ?? current.steps ?? []
  return html`<${Panel} title="Steps">
    ${versions.data && versions.data.length > 1 ? html`<${Field} label="Version">
      <select value=${chosen ?? current.version} onChange=${(e: Event) => setChosen(Number((e.target as HTMLSelectElement).value))}>
        ${versions.data.map((v) => html`<option value=${v.version}>v${v.version}${v.version === current.version ? ' (current)' : ''} · ${when(v.created_at)}</option>`)}
      </select><//>` : null}
    <ol class="steps">${steps.map((s) => html`<li><code>${s.id}</code> ${s.name ?? ''} <span class="badge muted">${s.type}</span></li>`)}</ol>
  <//>`
}

function WorkflowView({ id }: { id: string }) {
  const wf = useLoad(() => api(`/api/workflows/${id}`), [id])
  const executions = useLoad(() => api(`/api/workflows/${id}/executions`), [id])
  const [current, setCurrent] = useState<string | null>(null)
  const execute = useAction(async (v: Record<string, string>) => {
    const input = v.input.trim() ? JSON.parse(v.input) : {}
    const r = await api(`/api/workflows/${id}/execute`, { method: 'POST', body: { input_data: input, mode: 'sync' } })
    setCurrent(execId(one(r, 'execution')))
    executions.reload()
  })
  if (wf.error) return html`<${ErrorNote} error=${wf.error} />`
  if (!wf.data) return html`<${Loading} />`
  const w = one(wf.data, 'workflow') as Workflow
  return html`
    <p><strong>${w.name}</strong> <${Badge} status=${w.status} /> version ${w.version}${w.description ? html` — ${w.description}` : null}</p>
    <${Steps} id=${id} current=${w} />
    <${Panel} title="Execute">
      <form onSubmit=${(e: Event) => execute.run(formValues(e))}>
        <${Field} label="Input (JSON)"><textarea name="input" rows="3">{}</textarea><//>
        <button type="submit" disabled=${execute.busy}>${execute.busy ? 'Running…' : 'Execute'}</button>
      </form>
      <${ErrorNote} error=${execute.error} />
    <//>
    ${current ? html`<${ExecutionView} id=${current} />` : null}
    <${Panel} title="Executions">
      <${Table} label="Executions" rows=${executions.data ? items<Execution>(executions.data, 'executions') : null} empty="No executions yet."
        columns=${[
          { label: 'Execution', render: (x: Execution) => html`<button type="button" class="link" onClick=${() => setCurrent(execId(x))}>${execId(x)}</button>` },
          { label: 'Status', render: (x: Execution) => html`<${Badge} status=${x.status} />` },
          { label: 'Version', render: (x: Execution) => x.version ?? '—' },
          { label: 'Started', render: (x: Execution) => when(x.started_at ?? x.created_at) },
        ]} />
    <//>`
}

export const Workflows = () => html`<${Page} title="Workflows"><${Needs} path="/api/workflows" what="Workflows"><${WorkflowList} /><//><//>`
export const WorkflowDetail = ({ id }: { id: string }) => html`<${Page} title="Workflow"><${Needs} path="/api/workflows/{id}" what="Workflows"><${WorkflowView} id=${id} /><//><//>`
