import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { api } from '../api'
import { Badge, ErrorNote, Field, Page, Panel, Table, formValues, useAction, useLoad } from '../components'
import { ago } from '../format'
import { workspaceId } from '../state'
import { NeedWorkspace } from './workspace'

interface Connection {
  id: string; platform: string; name: string; status: string; error_message: string | null; tools: string[];
  last_tested_at: string | null;
}
interface Platform {
  id: string; name: string; config_schema: { properties?: Record<string, { description?: string }>;
  required?: string[] }; secret_fields: string[];
}
interface McpServer {
  id: string; name: string; url: string | null; transport: string; status: string; error_message: string | null;
  tool_count: number; tools: { name: string; description: string }[]; tools_refreshed_at: string | null;
}

function ConnectionsPanel() {
  const list = useLoad(() => api<{ connections: Connection[] }>('/api/connections'))
  const platforms = useLoad(() => api<{ platforms: Platform[] }>('/api/connections/platforms'))
  const [platformId, setPlatformId] = useState('')
  const platform = platforms.data?.platforms.find((p) => p.id === platformId) ?? platforms.data?.platforms[0]
  const create = useAction(async (v: Record<string, string>) => {
    const fields = Object.keys(platform?.config_schema.properties ?? {})
    const config = Object.fromEntries(fields.filter((f) => v[`config.${f}`]).map((f) => [f, v[`config.${f}`]]))
    await api('/api/connections', { method: 'POST', body: { platform: platform!.id, name: v.name, config } })
    list.reload()
  })
  const test = useAction(async (c: Connection) => { await api(`/api/connections/${c.id}/test`, { method: 'POST' }); list.reload() })
  const remove = useAction(async (c: Connection) => {
    if (!confirm(`Delete the connection "${c.name}"?`)) return
    await api(`/api/connections/${c.id}`, { method: 'DELETE' })
    list.reload()
  })
  const props = platform?.config_schema.properties ?? {}
  return html`<${Panel} title="Connections">
    <details><summary>Add a connection</summary>
      <form class="grid" onSubmit=${(e: Event) => create.run(formValues(e))}>
        <${Field} label="Platform"><select value=${platform?.id} onChange=${(e: Event) => setPlatformId((e.target as HTMLSelectElement).value)}>
          ${platforms.data?.platforms.map((p) => html`<option value=${p.id}>${p.name}</option>`)}</select><//>
        <${Field} label="Name"><input name="name" required maxlength="100" /><//>
        ${Object.entries(props).filter(([, s]) => typeof s === 'object').map(([f, s]) => html`<${Field} label=${f} hint=${s.description}>
          <input name=${`config.${f}`} type=${platform?.secret_fields.includes(f) ? 'password' : 'text'} autocomplete="off" required=${platform?.config_schema.required?.includes(f)} /><//>`)}
        <button type="submit" disabled=${create.busy}>Add connection</button>
      </form>
    </details>
    <${ErrorNote} error=${create.error || test.error || remove.error || list.error} />
    <${Table} label="Connections" rows=${list.data?.connections} empty="No connections yet."
      columns=${[
        { label: 'Name', render: (c: Connection) => c.name },
        { label: 'Platform', render: (c: Connection) => c.platform },
        { label: 'Status', render: (c: Connection) => html`<${Badge} status=${c.status} />${c.error_message ? html` <span class="muted">${c.error_message}</span>` : null}` },
        { label: 'Tools', render: (c: Connection) => html`${c.tools.length}
          ${c.tools.length ? html`<span class="muted"> (${c.tools.slice(0, 4).join(', ')}${c.tools.length > 4 ? ', …' : ''})</span>` : null}` },
        { label: 'Tested', render: (c: Connection) => ago(c.last_tested_at) },
        { label: '', render: (c: Connection) => html`<span class="row"><button type="button" class="secondary" onClick=${() => test.run(c)} aria-label=${`Test ${c.name}`}>Test</button>
          <button type="button" class="danger" onClick=${() => remove.run(c)} aria-label=${`Delete ${c.name}`}>Delete</button></span>` },
      ]} />
  <//>`
}

function McpPanel() {
  const ws = workspaceId.value
  const list = useLoad(() => api<{ mcp_servers: McpServer[] }>(`/api/workspaces/${ws}/mcp-servers`), [ws])
  const [open, setOpen] = useState<string | null>(null)
  const create = useAction(async (v: Record<string, string>) => {
    await api(`/api/workspaces/${ws}/mcp-servers`, { method: 'POST', body: { name: v.name, transport: 'http', url: v.url } })
    list.reload()
  })
  const refresh = useAction(async (s: McpServer) => { await api(`/api/workspaces/${ws}/mcp-servers/${s.id}/refresh`, { method: 'POST' }); list.reload() })
  const remove = useAction(async (s: McpServer) => {
    if (!confirm(`Remove the MCP server "${s.name}"?`)) return
    await api(`/api/workspaces/${ws}/mcp-servers/${s.id}`, { method: 'DELETE' })
    list.reload()
  })
  const shown = list.data?.mcp_servers.find((s) => s.id === open)
  return html`<${Panel} title="MCP servers">
    <form class="inline" onSubmit=${(e: Event) => create.run(formValues(e))}>
      <${Field} label="Name"><input name="name" required maxlength="100" /><//>
      <${Field} label="URL" hint="Streamable HTTP endpoint"><input name="url" type="url" required /><//>
      <button type="submit" disabled=${create.busy}>Add MCP server</button>
    </form>
    <${ErrorNote} error=${create.error || refresh.error || remove.error || list.error} />
    <${Table} label="MCP servers" rows=${list.data?.mcp_servers} empty="No MCP servers in this workspace."
      columns=${[
        { label: 'Name', render: (s: McpServer) => s.name },
        { label: 'URL', render: (s: McpServer) => html`<code>${s.url ?? s.transport}</code>` },
        { label: 'Status', render: (s: McpServer) => html`<${Badge} status=${s.status} />${s.error_message ? html` <span class="muted">${s.error_message}</span>` : null}` },
        { label: 'Tools', render: (s: McpServer) => html`<button type="button" class="link" aria-expanded=${open === s.id} onClick=${() => setOpen(open === s.id ? null : s.id)}>${s.tool_count} tools</button>` },
        { label: '', render: (s: McpServer) => html`<span class="row"><button type="button" class="secondary" onClick=${() => refresh.run(s)} aria-label=${`Test ${s.name}`}>Test</button>
          <button type="button" class="danger" onClick=${() => remove.run(s)} aria-label=${`Remove ${s.name}`}>Remove</button></span>` },
      ]} />
    ${shown ? html`<ul class="tools">${shown.tools.map((t) => html`<li><code>${t.name}</code> — ${t.description}</li>`)}</ul>` : null}
  <//>`
}

export const Connections = () => html`<${Page} title="Connections & MCP servers">
  <${ConnectionsPanel} />
  <${NeedWorkspace}><${McpPanel} /><//>
<//>`
