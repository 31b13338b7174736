import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { api } from '../api'
import { ErrorNote, Field, Page, Panel, SecretOnce, Table, formValues, useAction, useLoad } from '../components'
import { ago, when } from '../format'
import { user, workspaceId } from '../state'

interface Token {
  id: string; name: string; type: string; prefix: string; scopes: string[] | null; rate_limit_rpm: number;
  last_used_at: string | null; expires_at: string | null; created_at: string;
}

/** API tokens: create (the key is shown once), see scopes, rate and last use, revoke. */
export function Tokens() {
  const list = useLoad(() => api<{ tokens: Token[] }>('/api/tokens'))
  const [created, setCreated] = useState<{ key: string; name: string } | null>(null)
  const create = useAction(async (v: Record<string, string>) => {
    const scopes = v.scopes.split(/[\s,]+/).filter(Boolean)
    const body: Record<string, unknown> = { name: v.name, type: v.type }
    if (v.type === 'workspace') body.workspace_id = workspaceId.value
    if (scopes.length) body.scopes = scopes
    if (v.rpm) body.rate_limit_rpm = Number(v.rpm)
    if (v.days) body.expires_in_days = Number(v.days)
    const r = await api<{ key: string; token: Token }>('/api/tokens', { method: 'POST', body })
    setCreated({ key: r.key, name: r.token.name })
    list.reload()
  })
  const revoke = useAction(async (t: Token) => {
    if (!confirm(`Revoke the token "${t.name}"? Anything using it stops working at once.`)) return
    await api(`/api/tokens/${t.id}`, { method: 'DELETE' })
    list.reload()
  })
  return html`<${Page} title="API tokens">
    ${created ? html`<${SecretOnce} label=${`Token "${created.name}"`} value=${created.key} onDone=${() => setCreated(null)} />` : null}
    <${Panel} title="New token">
      <form class="inline" onSubmit=${(e: Event) => { const v = formValues(e); create.run(v).then(() => (e.target as HTMLFormElement).reset()) }}>
        <${Field} label="Name"><input name="name" required maxlength="100" /><//>
        <${Field} label="Type" hint="workspace: the workspace selected above; admin: the whole instance">
          <select name="type"><option value="personal">personal</option><option value="workspace">workspace</option>
            ${user.value?.role === 'admin' ? html`<option value="admin">admin</option>` : null}</select><//>
        <${Field} label="Scopes" hint="Space separated, e.g. endpoints.read bots.write; empty = everything you can do"><input name="scopes" /><//>
        <${Field} label="Requests per minute"><input name="rpm" type="number" min="1" /><//>
        <${Field} label="Expires in days"><input name="days" type="number" min="1" max="3650" /><//>
        <button type="submit" disabled=${create.busy}>Create token</button>
      </form>
      <${ErrorNote} error=${create.error} />
    <//>
    <${ErrorNote} error=${list.error || revoke.error} />
    <${Table} label="Tokens" rows=${list.data?.tokens} empty="No tokens yet."
      columns=${[
        { label: 'Name', render: (t: Token) => t.name },
        { label: 'Key', render: (t: Token) => html`<code>${t.prefix}…</code>` },
        { label: 'Type', render: (t: Token) => t.type },
        { label: 'Scopes', render: (t: Token) => (t.scopes?.length ? t.scopes.join(', ') : 'all of its type') },
        { label: 'Rate', render: (t: Token) => `${t.rate_limit_rpm}/min` },
        { label: 'Last used', render: (t: Token) => ago(t.last_used_at) },
        { label: 'Expires', render: (t: Token) => when(t.expires_at) },
        { label: '', render: (t: Token) => html`<button type="button" class="danger" onClick=${() => revoke.run(t)} aria-label=${`Revoke ${t.name}`}>Revoke</button>` },
      ]} />
  <//>`
}
