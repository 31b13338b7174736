import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { api } from '../api'
import { Badge, ErrorNote, Field, Json, Loading, Page, Panel, SecretOnce, Table, useAction, useLoad } from '../components'
import { ago, when } from '../format'
import { go } from '../state'

interface Webhook {
  id: string; url: string; events: string[]; enabled: boolean; disabled_reason: string | null;
  failing_since: string | null; created_at: string;
}
interface Delivery {
  id: string; event_type: string; status: string; attempts: number; last_status: number | null;
  last_error: string | null; next_attempt_at: string | null; created_at: string; attempt_log: { attempt: number;
  status: number | null; error: string | null; created_at: string }[];
}

export function Webhooks() {
  const list = useLoad(() => api<{ webhooks: Webhook[] }>('/api/webhooks'))
  const catalog = useLoad(() => api<{ events: { type: string; description: string }[] }>('/api/webhooks/events'))
  const [secret, setSecret] = useState<string | null>(null)
  const create = useAction(async (e: Event) => {
    const form = e.currentTarget as HTMLFormElement
    e.preventDefault()
    const data = new FormData(form)
    const events = data.getAll('events').map(String)
    const r = await api<{ webhook: Webhook; secret?: string }>('/api/webhooks', { method: 'POST', body: { url: data.get('url'), events } })
    setSecret(r.secret ?? null)
    form.reset()
    list.reload()
  })
  return html`<${Page} title="Webhooks">
    ${secret ? html`<${SecretOnce} label="Signing secret" value=${secret} onDone=${() => setSecret(null)} />` : null}
    <${Panel} title="New subscription">
      <form onSubmit=${(e: Event) => create.run(e)}>
        <${Field} label="URL" hint="https (http only for hosts in AGENTBASE_OUTBOUND_ALLOW)"><input name="url" type="url" required /><//>
        <fieldset class="events-pick"><legend>Events</legend>
          ${catalog.data?.events.map((ev) => html`<label class="check" title=${ev.description}><input type="checkbox" name="events" value=${ev.type} /> ${ev.type}</label>`)}
        </fieldset>
        <button type="submit" disabled=${create.busy}>Subscribe</button>
      </form>
      <${ErrorNote} error=${create.error || catalog.error} />
    <//>
    <${ErrorNote} error=${list.error} />
    <${Table} label="Webhooks" rows=${list.data?.webhooks} empty="No webhook subscriptions yet."
      columns=${[
        { label: 'URL', render: (w: Webhook) => html`<a href=${`#/webhooks/${w.id}`}>${w.url}</a>` },
        { label: 'Events', render: (w: Webhook) => w.events.join(', ') },
        { label: 'State', render: (w: Webhook) => html`
          <${Badge} status=${w.enabled ? (w.failing_since ? 'failing' : 'enabled') : 'disabled'} />${w.disabled_reason ? html` <span class="muted">${w.disabled_reason}</span>` : null}` },
        { label: 'Created', render: (w: Webhook) => ago(w.created_at) },
      ]} />
  <//>`
}

/** A subscription's deliveries, failures first, each with its attempts and a retry. */
export function WebhookDetail({ id }: { id: string }) {
  const hook = useLoad(() => api<{ webhook: Webhook }>(`/api/webhooks/${id}`), [id])
  const deliveries = useLoad(() => api<{ deliveries: Delivery[] }>(`/api/webhooks/${id}/deliveries?limit=100`), [id])
  const [open, setOpen] = useState<string | null>(null)
  const retry = useAction(async (d: Delivery) => {
    await api(`/api/webhooks/deliveries/${d.id}/retry`, { method: 'POST' })
    deliveries.reload()
  })
  const test = useAction(async () => {
    await api(`/api/webhooks/${id}/test`, { method: 'POST' })
    deliveries.reload()
  })
  const toggle = useAction(async (enabled: boolean) => {
    await api(`/api/webhooks/${id}`, { method: 'PATCH', body: { enabled } })
    hook.reload()
  })
  const remove = useAction(async () => {
    if (!confirm('Delete this subscription and its delivery log?')) return
    await api(`/api/webhooks/${id}`, { method: 'DELETE' })
    go('/webhooks')
  })
  if (hook.error) return html`<${Page} title="Webhook"><${ErrorNote} error=${hook.error} /><//>`
  const w = hook.data?.webhook
  if (!w) return html`<${Page} title="Webhook"><${Loading} /><//>`
  const rank = (s: string) => (s === 'failed' ? 0 : s === 'pending' ? 1 : 2)
  const rows = [...(deliveries.data?.deliveries ?? [])].sort((a, b) => rank(a.status) - rank(b.status) || b.created_at.localeCompare(a.created_at))
  return html`<${Page} title="Webhook" actions=${html`
      <button type="button" class="secondary" onClick=${() => test.run()}>Send test event</button>
      <button type="button" class="secondary" onClick=${() => toggle.run(!w.enabled)}>${w.enabled ? 'Disable' : 'Enable'}</button>
      <button type="button" class="danger" onClick=${() => remove.run()}>Delete</button>`}>
    <p><code>${w.url}</code> · <${Badge} status=${w.enabled ? 'enabled' : 'disabled'} /> · ${w.events.join(', ')}</p>
    ${w.failing_since ? html`<p class="note error">Failing since ${when(w.failing_since)}</p>` : null}
    <${ErrorNote} error=${retry.error || test.error || toggle.error || remove.error || deliveries.error} />
    <${Panel} title="Deliveries (failures first)">
      <${Table} label="Deliveries" rows=${deliveries.data ? rows : null} empty="No deliveries yet."
        columns=${[
          { label: 'Event', render: (d: Delivery) => html`<button type="button" class="link" aria-expanded=${open === d.id} onClick=${() => setOpen(open === d.id ? null : d.id)}>${d.event_type}</button>` },
          { label: 'Status', render: (d: Delivery) => html`<${Badge} status=${d.status} />` },
          { label: 'Attempts', render: (d: Delivery) => d.attempts },
          { label: 'Last answer', render: (d: Delivery) => html`${d.last_status ? html`<strong>HTTP ${d.last_status}</strong> ` : null}${d.last_error ?? (d.last_status ? '' : '—')}` },
          { label: 'Next attempt', render: (d: Delivery) => when(d.next_attempt_at) },
          { label: '', render: (d: Delivery) => (d.status === 'success' ? null : html`<button type="button" onClick=${() => retry.run(d)} aria-label=${`Retry delivery ${d.id}`}>Retry</button>`) },
        ]} />
      ${open ? html`<${Json} value=${deliveries.data?.deliveries.find((d) => d.id === open)?.attempt_log} />` : null}
    <//>
  <//>`
}
