import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { api, items, one, qs } from '../api'
import { ErrorNote, Field, Json, Needs, Page, Panel, Table, useAction, useLoad } from '../components'
import { go, workspaceId } from '../state'

interface Variable { description?: string; required?: boolean; example?: unknown; default?: unknown }
interface Template {
  id?: string; template_id?: string; name: string; description?: string; category?: string; difficulty?: string;
  required_platforms?: string[]; variables?: Record<string, Variable>;
}
interface Missing { platform?: string; reason?: string; fix?: string }
const tplId = (t: Template) => t.template_id ?? t.id ?? ''

/** Fills a template's variables and uses it; the API answers what is missing (by platform) instead of creating it. */
function UseTemplate({ template, onClose }: { template: Template; onClose: () => void }) {
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string; missing: Missing[]; tools: string[]; body: unknown } | null>(null)
  const use = useAction(async (e: Event) => {
    e.preventDefault()
    const data = new FormData(e.currentTarget as HTMLFormElement)
    const variables = Object.fromEntries(Object.keys(template.variables ?? {}).map((name) => [name, String(data.get(name) ?? '')]).filter(([, v]) => v !== ''))
    // The API answers 409 with what is missing: read the body ourselves rather than treat it as a failure.
    const res = await fetch(`/api/templates/${encodeURIComponent(tplId(template))}/use`, {
      method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ variables, workspace_id: workspaceId.value }),
    })
    const body = await res.json().catch(() => null)
    const missing = body?.data?.missing_connections ?? body?.missing ?? []
    const tools = body?.data?.missing_tools ?? []
    if (!res.ok && !missing.length && !tools.length) throw new Error(body?.error ?? `Using the template failed (${res.status})`)
    setOutcome({ ok: res.ok, message: body?.message ?? '', missing, tools, body })
    const created = res.ok ? one(body, 'workflow') : null
    if (created?.id) go(`/workflows/${created.id}`)
  })
  const vars = Object.entries(template.variables ?? {})
  return html`<${Panel} title=${`Use "${template.name}"`}>
    <form onSubmit=${(e: Event) => use.run(e)}>
      ${vars.map(([name, v]) => html`<${Field} label=${name} hint=${v.description}>
        <input name=${name} required=${!!v.required && v.default === undefined} placeholder=${v.example !== undefined ? String(v.example) : ''} /><//>`)}
      <p class="row"><button type="submit" disabled=${use.busy}>Create workflow</button><button type="button" class="secondary" onClick=${onClose}>Close</button></p>
    </form>
    <${ErrorNote} error=${use.error} />
    ${outcome && !outcome.ok ? html`<div class="note error" role="status"><strong>${outcome.message}</strong>
      ${outcome.missing.length ? html`<ul>${outcome.missing.map((m) => html`
        <li><strong>${m.platform}</strong>: ${m.reason}${m.fix ? html` — <a href="#/connections">add a connection</a>` : null}</li>`)}</ul>` : null}
      ${outcome.tools.length ? html`<p>Tools not available: ${outcome.tools.map((t) => html`<code>${t}</code> `)}</p>` : null}</div>` : null}
    ${outcome?.ok ? html`<${Json} value=${outcome.body} />` : null}
  <//>`
}

function TemplateBrowser() {
  const [filter, setFilter] = useState({ search: '', category: '' })
  const list = useLoad(() => api(`/api/templates${qs(filter)}`), [filter.search, filter.category])
  const categories = useLoad(() => api('/api/templates/categories'))
  const [chosen, setChosen] = useState<Template | null>(null)
  return html`
    <form class="inline" role="search" onSubmit=${(e: Event) => { e.preventDefault(); setFilter({ ...filter, search: String(new FormData(e.currentTarget as HTMLFormElement).get('q') ?? '') }) }}>
      <${Field} label="Category"><select value=${filter.category} onChange=${(e: Event) => setFilter({ ...filter, category: (e.target as HTMLSelectElement).value })}>
        <option value="">any</option>${items<{ name: string; count: number }>(categories.data, 'categories').map((c) => html`<option value=${c.name}>${c.name} (${c.count})</option>`)}
      </select><//>
      <${Field} label="Search templates"><input name="q" type="search" /><//><button type="submit">Search</button>
    </form>
    ${chosen ? html`<${UseTemplate} key=${tplId(chosen)} template=${chosen} onClose=${() => setChosen(null)} />` : null}
    <${ErrorNote} error=${list.error} />
    <${Table} label="Templates" rows=${list.data ? items<Template>(list.data, 'templates') : null} empty="No templates match."
      columns=${[
        { label: 'Template', render: (t: Template) => html`<strong>${t.name}</strong><br /><span class="muted">${t.description ?? ''}</span>` },
        { label: 'Category', render: (t: Template) => t.category ?? '—' },
        { label: 'Difficulty', render: (t: Template) => t.difficulty ?? '—' },
        { label: 'Needs', render: (t: Template) => (t.required_platforms?.length ? t.required_platforms.join(', ') : 'nothing') },
        { label: '', render: (t: Template) => html`<button type="button" onClick=${() => setChosen(t)} aria-label=${`Use ${t.name}`}>Use</button>` },
      ]} />`
}

export const Templates = () => html`<${Page} title="Templates"><${Needs} path="/api/templates" what="Templates"><${TemplateBrowser} /><//><//>`
