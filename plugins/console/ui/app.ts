import { html } from 'htm/preact'
import { useEffect, useRef } from 'preact/hooks'
import { api, whenSignedOut } from './api'
import { go, loadWorkspaces, refreshSession, route, selectWorkspace, session, user, workspaceId, workspaces } from './state'
import { SignIn } from './pages/signin'
import { Overview } from './pages/overview'
import { Runs, RunDetail } from './pages/runs'
import { Chat } from './pages/chat'
import { Bots, BotDetail } from './pages/bots'
import { Endpoints, EndpointDetail } from './pages/endpoints'
import { Workflows, WorkflowDetail } from './pages/workflows'
import { Schedules } from './pages/schedules'
import { Webhooks, WebhookDetail } from './pages/webhooks'
import { Connections } from './pages/connections'
import { Tokens } from './pages/tokens'
import { Templates } from './pages/templates'

const NAV: [path: string, label: string][] = [
  ['', 'Overview'], ['runs', 'Runs'], ['chat', 'Chat'], ['bots', 'Bots'], ['endpoints', 'Agent endpoints'],
  ['workflows', 'Workflows'], ['schedules', 'Schedules'], ['webhooks', 'Webhooks'], ['connections', 'Connections & MCP'],
  ['tokens', 'API tokens'], ['templates', 'Templates'],
]

function pageFor([section, id]: string[]) {
  switch (section ?? '') {
    case '': return html`<${Overview} />`
    case 'runs': return id ? html`<${RunDetail} id=${id} />` : html`<${Runs} />`
    case 'chat': return html`<${Chat} id=${id} />`
    case 'bots': return id ? html`<${BotDetail} id=${id} />` : html`<${Bots} />`
    case 'endpoints': return id ? html`<${EndpointDetail} id=${id} />` : html`<${Endpoints} />`
    case 'workflows': return id ? html`<${WorkflowDetail} id=${id} />` : html`<${Workflows} />`
    case 'schedules': return html`<${Schedules} />`
    case 'webhooks': return id ? html`<${WebhookDetail} id=${id} />` : html`<${Webhooks} />`
    case 'connections': return html`<${Connections} />`
    case 'tokens': return html`<${Tokens} />`
    case 'templates': return html`<${Templates} />`
    default: return html`<section class="page"><h1 id="page-title" tabindex="-1">Not found</h1><p>No page here. <a href="#/">Back to the overview</a>.</p></section>`
  }
}

function WorkspacePicker() {
  if (!workspaces.value.length) return null
  return html`<label class="ws-picker"><span class="label">Workspace</span>
    <select value=${workspaceId.value ?? ''} onChange=${(e: Event) => selectWorkspace((e.target as HTMLSelectElement).value)}>
      ${workspaces.value.map((w) => html`<option value=${w.id}>${w.name}</option>`)}
    </select></label>`
}

/** When even the session route cannot answer: show the sign-in screen. */
const signedOut = () => { session.value = { user: null, setup_required: false, open_registration: false } }

async function signOut() {
  await api('/api/auth/logout', { method: 'POST' }).catch(() => null)
  await refreshSession().catch(signedOut)
  go('/')
}

function Shell() {
  const current = route.value[0] ?? ''
  // After navigating (not on the first load, where Tab should reach the skip link first), move focus
  // to the new page's heading so keyboard and screen-reader users land on it.
  const firstRender = useRef(true)
  useEffect(() => {
    if (firstRender.current) { firstRender.current = false; return }
    document.getElementById('page-title')?.focus({ preventScroll: true })
  }, [route.value.join('/')])
  useEffect(() => { loadWorkspaces().catch(() => null) }, [user.value?.id])
  return html`
    <a class="skip" href="#main" onClick=${(e: Event) => { e.preventDefault(); document.getElementById('page-title')?.focus() }}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/">Agentbase</a>
      <${WorkspacePicker} />
      <span class="who">${user.value?.email}</span>
      <button type="button" class="secondary" onClick=${signOut}>Sign out</button>
    </header>
    <div class="layout">
      <nav aria-label="Console"><ul>
        ${NAV.map(([path, label]) => html`<li><a href=${`#/${path}`} aria-current=${current === path ? 'page' : undefined}>${label}</a></li>`)}
      </ul></nav>
      <main id="main">${pageFor(route.value)}</main>
    </div>`
}

export function App() {
  useEffect(() => {
    whenSignedOut(() => { refreshSession().catch(signedOut) })
    refreshSession().catch(signedOut)
  }, [])
  if (!session.value) return html`<p class="boot" role="status">Loading the console…</p>`
  if (!user.value) return html`<${SignIn} setup=${session.value.setup_required} open=${session.value.open_registration} />`
  return html`<${Shell} />`
}
