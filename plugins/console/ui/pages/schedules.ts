import { html } from 'htm/preact'
import { api, items, one } from '../api'
import { Badge, ErrorNote, Field, Needs, Page, Panel, formValues, useAction, useLoad } from '../components'
import { when } from '../format'

interface Agent { agent_id?: string; id?: string; workflow_id: string; workflow_name?: string; status: string }
interface Status {
  agent_id: string; workflow_name?: string; status: string; schedule?: { type?: string; cron?: string; interval_seconds?: number; timezone?: string } | null
  monitoring?: { success_rate?: number; last_run_at?: string | null; last_error?: string | null; next_runs?: NextRun[]; missed_count?: number; skipped_count?: number; execution_count?: number }
}
/** A run time: the schedule's zone and UTC (a bare string from older servers). */
type NextRun = string | { local?: string; utc?: string }
const agentId = (a: Agent) => a.agent_id ?? a.id ?? ''

/** One scheduled agent: next 5 runs, last result, success rate, missed and skipped; pause/resume/run now. */
function AgentCard({ id, onChange }: { id: string; onChange: () => void }) {
  const status = useLoad(() => api(`/api/agents/${id}/status`), [id])
  const act = useAction(async (what: 'pause' | 'resume' | 'execute') => {
    await api(`/api/agents/${id}/${what}`, { method: 'POST', body: what === 'execute' ? {} : undefined })
    status.reload()
    onChange()
  })
  const s = status.data ? (one(status.data, 'agent') as Status) : null
  if (!s) return html`<${ErrorNote} error=${status.error} />`
  const m = s.monitoring ?? {}
  const sched = s.schedule
  return html`<article class="card" aria-label=${`Agent ${s.workflow_name ?? id}`}>
    <h3>${s.workflow_name ?? id} <${Badge} status=${s.status} /></h3>
    <p>${sched && (sched.cron || sched.interval_seconds) ? (sched.cron ? html`cron <code>${sched.cron}</code> (${sched.timezone ?? 'UTC'})` : `every ${sched.interval_seconds} s`) : 'not scheduled'}</p>
    <p>Last run ${when(m.last_run_at)} · ${m.execution_count ?? 0} runs · success rate ${m.success_rate == null ? '—' : `${m.success_rate}%`} · missed ${m.missed_count ?? 0} · skipped ${m.skipped_count ?? 0}</p>
    ${m.last_error ? html`<p class="note error">${m.last_error}</p>` : null}
    ${m.next_runs?.length ? html`<p>Next runs (${sched?.timezone ?? 'UTC'}):</p><ol class="next-runs">${m.next_runs.slice(0, 5).map((t) => html`
      <li>${typeof t === 'string' ? t : html`${t.local ?? t.utc} <span class="muted">${t.utc}</span>`}</li>`)}</ol>` : null}
    <p class="row">
      ${s.status === 'paused'
        ? html`<button type="button" onClick=${() => act.run('resume')}>Resume</button>`
        : html`<button type="button" class="secondary" onClick=${() => act.run('pause')}>Pause</button>`}
      <button type="button" class="secondary" onClick=${() => act.run('execute')}>Run now</button>
    </p>
    <${ErrorNote} error=${act.error} />
  </article>`
}

function ScheduleList() {
  const list = useLoad(() => api('/api/agents'))
  const workflows = useLoad(() => api('/api/workflows').catch(() => null))
  const deploy = useAction(async (v: Record<string, string>) => {
    const r = await api('/api/agents', { method: 'POST', body: { workflow_id: v.workflow_id } })
    const id = agentId(one(r, 'agent') as Agent)
    const schedule_config = v.cron ? { type: 'cron', cron: v.cron, timezone: v.timezone || 'UTC' } : { type: 'interval', interval_seconds: Number(v.interval || 3600) }
    await api('/api/agents/schedule', { method: 'POST', body: { agent_id: id, schedule_config } })
    list.reload()
  })
  const agents = items<Agent>(list.data, 'agents')
  return html`
    <${Panel} title="Schedule a workflow">
      <form class="grid" onSubmit=${(e: Event) => deploy.run(formValues(e))}>
        <${Field} label="Workflow"><select name="workflow_id" required>${items(workflows.data, 'workflows').map((w: any) => html`<option value=${w.id}>${w.name}</option>`)}</select><//>
        <${Field} label="Cron" hint="5 or 6 fields; leave empty for an interval"><input name="cron" placeholder="0 9 * * 1-5" /><//>
        <${Field} label="Time zone"><input name="timezone" placeholder="Europe/Berlin" /><//>
        <${Field} label="Or every N seconds"><input name="interval" type="number" min="1" /><//>
        <button type="submit" disabled=${deploy.busy}>Deploy and schedule</button>
      </form>
      <${ErrorNote} error=${deploy.error} />
    <//>
    <${ErrorNote} error=${list.error} />
    ${list.data && !agents.length ? html`<p class="muted">No scheduled agents yet.</p>` : null}
    <div class="cards">${agents.map((a) => html`<${AgentCard} key=${agentId(a)} id=${agentId(a)} onChange=${list.reload} />`)}</div>`
}

export const Schedules = () => html`<${Page} title="Schedules"><${Needs} path="/api/agents" what="Scheduled agents"><${ScheduleList} /><//><//>`
