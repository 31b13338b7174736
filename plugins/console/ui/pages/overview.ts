import { html } from 'htm/preact'
import { api } from '../api'
import { ErrorNote, Loading, Page, Panel, Stat, Table, useInterval, useLoad } from '../components'
import { ago, bytes, cents, change, duration, when } from '../format'
import { user } from '../state'

interface Window { runs: number; failures: number; cost_cents: number }
interface System {
  version: string; uptime_s: number; database: { size_bytes: number; wal_bytes: number }; last_backup_at: string | null
  queues: Record<string, number>; providers: { name: string; base_url: string; configured: boolean; reachable: boolean | null; checked_at: string | null }[]
  runs: { last_7_days: Window; previous_7_days: Window }
}

const QUEUES: Record<string, string> = {
  runs_queued: 'Runs queued', runs_running: 'Runs running', bot_inbox_pending: 'Bot messages waiting',
  webhook_deliveries_pending: 'Webhook backlog', webhook_deliveries_failed: 'Failed deliveries',
}

function SystemPanels() {
  const { data, error, loading, reload } = useLoad(() => api<System>('/api/admin/system'))
  useInterval(reload, 15000)
  if (error) return html`<${ErrorNote} error=${error} />`
  if (!data) return loading ? html`<${Loading} />` : null
  const now = data.runs.last_7_days, before = data.runs.previous_7_days
  return html`
    <div class="stats">
      <${Stat} label="Version" value=${data.version} hint=${`up ${duration(data.uptime_s)}`} />
      <${Stat} label="Database" value=${bytes(data.database.size_bytes)} hint=${`WAL ${bytes(data.database.wal_bytes)}`} />
      <${Stat} label="Last backup" value=${data.last_backup_at ? ago(data.last_backup_at) : 'never'} hint=${data.last_backup_at ? when(data.last_backup_at) : 'agentbase backup <file>'} />
      <${Stat} label="Runs, 7 days" value=${now.runs} hint=${change(now.runs, before.runs)} />
      <${Stat} label="Failures, 7 days" value=${now.failures} hint=${change(now.failures, before.failures)} />
      <${Stat} label="Cost, 7 days" value=${cents(now.cost_cents)} hint=${change(now.cost_cents, before.cost_cents)} />
    </div>
    <${Panel} title="Queues">
      <div class="stats">${Object.entries(data.queues).map(([key, n]) => html`<${Stat} label=${QUEUES[key] ?? key} value=${n} />`)}</div>
    <//>
    <${Panel} title="LLM providers">
      <${Table} label="Providers" rows=${data.providers} empty="No providers"
        columns=${[
          { label: 'Provider', render: (p: System['providers'][0]) => p.name },
          { label: 'Base URL', render: (p: System['providers'][0]) => html`<code>${p.base_url}</code>` },
          { label: 'Configured', render: (p: System['providers'][0]) => (p.configured ? 'yes' : 'no key') },
          { label: 'Reachable', render: (p: System['providers'][0]) => (p.reachable === null ? '—' : p.reachable ? html`<span class="badge ok">reachable</span>` : html`<span class="badge bad">unreachable</span>`) },
        ]} />
    <//>`
}

export function Overview() {
  const isAdmin = user.value?.role === 'admin'
  return html`<${Page} title="Overview">
    ${isAdmin
      ? html`<${SystemPanels} />`
      : html`<p class="muted">Instance statistics are shown to administrators.</p>`}
    <${Panel} title="Start here">
      <ul class="links">
        <li><a href="#/endpoints">Create an agent endpoint</a> and call it over HTTP.</li>
        <li><a href="#/bots">Connect a bot</a> to Telegram, Discord, Slack or WhatsApp.</li>
        <li><a href="#/connections">Add an MCP server or a connection</a> to give agents tools.</li>
        <li><a href="#/tokens">Create an API token</a> for scripts; the API is documented at <a href="/swagger">/swagger</a>.</li>
      </ul>
    <//>
  <//>`
}
