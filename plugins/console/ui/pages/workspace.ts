import { html } from 'htm/preact'
import type { ComponentChildren } from 'preact'
import { api } from '../api'
import { ErrorNote, Field, formValues, useAction } from '../components'
import { loadWorkspaces, selectWorkspace, workspaceId, workspacesLoaded } from '../state'
import { Loading } from '../components'

/** Bots, endpoints and MCP servers live in a workspace: offer to create the first one. */
export function NeedWorkspace({ children }: { children: ComponentChildren }) {
  const create = useAction(async (v: Record<string, string>) => {
    const r = await api<{ workspace: { id: string } }>('/api/workspaces', { method: 'POST', body: { name: v.name } })
    await loadWorkspaces()
    selectWorkspace(r.workspace.id)
  })
  if (workspaceId.value) return html`${children}`
  if (!workspacesLoaded.value) return html`<${Loading} />`
  return html`<div class="note"><p>Bots, endpoints and tools belong to a workspace. Create your first one.</p>
    <form class="inline" onSubmit=${(e: Event) => create.run(formValues(e))}>
      <${Field} label="Workspace name"><input name="name" required maxlength="100" value="Default" /><//>
      <button type="submit" disabled=${create.busy}>Create workspace</button>
    </form><${ErrorNote} error=${create.error} /></div>`
}
