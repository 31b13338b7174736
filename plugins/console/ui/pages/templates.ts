import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { api, items, one } from '../api'
import { ErrorNote, Field, Json, Needs, Page, Table, useAction, useLoad } from '../components'
import { go } from '../state'

interface Template { id?: string; template_id?: string; name: string; description?: string; category?: string; difficulty?: string; required_platforms?: string[] }
const tplId = (t: Template) => t.template_id ?? t.id ?? ''

/** Browse templates, see what each needs, use one: the API answers what is missing instead of creating it. */
function TemplateBrowser() {
  const [search, setSearch] = useState('')
  const list = useLoad(() => api(`/api/templates${search ? `?search=${encodeURIComponent(search)}` : ''}`), [search])
  const [outcome, setOutcome] = useState<{ name: string; body: any } | null>(null)
  const use = useAction(async (t: Template) => {
    const res = await fetch(`/api/templates/${encodeURIComponent(tplId(t))}/use`, {
      method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: '{}',
    })
    const body = await res.json().catch(() => null)
    setOutcome({ name: t.name, body })
    const created = res.ok && body?.success !== false ? one(body, 'workflow') : null
    if (created?.id && String(created.id).startsWith('wf_')) go(`/workflows/${created.id}`)
  })
  const missing = outcome?.body?.missing ?? outcome?.body?.data?.missing ?? outcome?.body?.details?.missing
  return html`
    <form class="inline" role="search" onSubmit=${(e: Event) => { e.preventDefault(); setSearch(String(new FormData(e.currentTarget as HTMLFormElement).get('q') ?? '')) }}>
      <${Field} label="Search templates"><input name="q" type="search" /><//><button type="submit">Search</button>
    </form>
    ${outcome ? html`<div class="note" role="status"><strong>${outcome.name}:</strong> ${outcome.body?.message ?? outcome.body?.error ?? ''}
      ${Array.isArray(missing) && missing.length ? html`<p>Missing before it can run:</p><ul>${missing.map((m: any) => html`<li>${typeof m === 'string' ? m : m.platform ?? m.name ?? JSON.stringify(m)}${m.reason ? ` — ${m.reason}` : ''}</li>`)}</ul>` : null}
      ${!missing ? html`<${Json} value=${outcome.body} />` : null}</div>` : null}
    <${ErrorNote} error=${list.error || use.error} />
    <${Table} label="Templates" rows=${list.data ? items<Template>(list.data, 'templates') : null} empty="No templates match."
      columns=${[
        { label: 'Template', render: (t: Template) => html`<strong>${t.name}</strong><br /><span class="muted">${t.description ?? ''}</span>` },
        { label: 'Category', render: (t: Template) => t.category ?? '—' },
        { label: 'Difficulty', render: (t: Template) => t.difficulty ?? '—' },
        { label: 'Needs', render: (t: Template) => (t.required_platforms?.length ? t.required_platforms.join(', ') : 'nothing') },
        { label: '', render: (t: Template) => html`<button type="button" onClick=${() => use.run(t)} aria-label=${`Use ${t.name}`}>Use</button>` },
      ]} />`
}

export const Templates = () => html`<${Page} title="Templates"><${Needs} path="/api/templates" what="Templates"><${TemplateBrowser} /><//><//>`
