import { html } from 'htm/preact'
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import type { ComponentChildren } from 'preact'
import { ApiFailure, apiKnown, hasApi } from './api'

/** Loads data for a page; `reload` repeats it (after an action). Aborts when the page goes away. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[] = []) {
  const [state, setState] = useState<{ data: T | null; error: Error | null; loading: boolean }>({ data: null, error: null, loading: true })
  const [tick, setTick] = useState(0)
  useEffect(() => {
    const abort = new AbortController()
    setState((s) => ({ ...s, loading: true }))
    load(abort.signal).then(
      (data) => { if (!abort.signal.aborted) setState({ data, error: null, loading: false }) },
      (error) => { if (!abort.signal.aborted) setState({ data: null, error, loading: false }) },
    )
    return () => abort.abort()
  }, [...deps, tick])
  const reload = useCallback(() => setTick((n) => n + 1), [])
  return { ...state, reload }
}

/** Repeats `fn` every `ms` while the tab is visible (lists that should stay live). */
export function useInterval(fn: () => void, ms: number) {
  const saved = useRef(fn)
  saved.current = fn
  useEffect(() => {
    const id = setInterval(() => { if (document.visibilityState === 'visible') saved.current() }, ms)
    return () => clearInterval(id)
  }, [ms])
}

/** Runs an action, keeping its error and busy state for the button that started it. */
export function useAction<A extends unknown[]>(fn: (...args: A) => Promise<unknown>) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<Error | null>(null)
  const run = async (...args: A) => {
    setBusy(true)
    setError(null)
    try { return await fn(...args) } catch (err) { setError(err as Error) } finally { setBusy(false) }
  }
  return { run, busy, error }
}

export const Page = ({ title, actions, children }: { title: string; actions?: ComponentChildren; children?: ComponentChildren }) => html`
  <section class="page" aria-labelledby="page-title">
    <header class="page-head"><h1 id="page-title" tabindex="-1">${title}</h1>${actions ? html`<div class="actions">${actions}</div>` : null}</header>
    ${children}
  </section>`

export const Panel = ({ title, children }: { title?: string; children?: ComponentChildren }) => html`
  <section class="panel">${title ? html`<h2>${title}</h2>` : null}${children}</section>`

export const ErrorNote = ({ error }: { error: Error | null }) => {
  if (!error) return null
  const details = error instanceof ApiFailure && error.details ? Object.entries(error.details) : []
  return html`<div class="note error" role="alert"><strong>${error.message}</strong>
    ${details.length ? html`<ul>${details.map(([field, problem]) => html`<li><code>${field}</code>: ${problem}</li>`)}</ul>` : null}</div>`
}

export const Loading = () => html`<p class="muted" role="status">Loading…</p>`

/** What a page shows when this server does not have the API it needs (a feature not in this build). */
export const Unavailable = ({ what, path }: { what: string; path: string }) => html`
  <div class="note" role="status"><strong>${what} is not available on this server.</strong>
  <p class="muted">This build has no <code>${path}</code> API. It appears here once the server includes it.</p></div>`

/** Renders children only when the API path exists; otherwise the clean "not available" state. */
export const Needs = ({ path, what, children }: { path: string; what: string; children: ComponentChildren }) =>
  !apiKnown() ? html`<${Loading} />` : hasApi(path) ? html`${children}` : html`<${Unavailable} what=${what} path=${path} />`

export interface Column<T> { label: string; render: (row: T) => ComponentChildren; class?: string }

export function Table<T>({ columns, rows, empty, label }: { columns: Column<T>[]; rows: T[] | null | undefined; empty: string; label: string }) {
  if (!rows) return null
  if (!rows.length) return html`<p class="muted empty">${empty}</p>`
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${label}><table>
    <thead><tr>${columns.map((c) => html`<th scope="col" class=${c.class}>${c.label}</th>`)}</tr></thead>
    <tbody>${rows.map((row) => html`<tr>${columns.map((c) => html`<td class=${c.class}>${c.render(row)}</td>`)}</tr>`)}</tbody>
  </table></div>`
}

const TONES: Record<string, string> = {
  active: 'ok', success: 'ok', connected: 'ok', ok: 'ok', completed: 'ok', delivered: 'ok', enabled: 'ok',
  error: 'bad', failed: 'bad', expired: 'bad', disabled: 'bad', cancelled: 'warn', interrupted: 'bad',
  paused: 'warn', pending: 'warn', queued: 'warn', running: 'info', draft: 'muted', test: 'info',
}
export const Badge = ({ status }: { status: string | null | undefined }) =>
  html`<span class=${`badge ${TONES[String(status)] ?? 'muted'}`}>${status ?? '—'}</span>`

/** A secret the API returns only once: shown with a copy button and a clear warning. */
export function SecretOnce({ label, value, onDone }: { label: string; value: string; onDone?: () => void }) {
  const [copied, setCopied] = useState(false)
  const copy = async () => {
    try { await navigator.clipboard.writeText(value); setCopied(true) } catch { setCopied(false) }
  }
  return html`<div class="note secret" role="status">
    <p><strong>${label}</strong> — copy it now: it is shown only once.</p>
    <p><code class="secret-value" data-secret>${value}</code></p>
    <p class="row"><button type="button" onClick=${copy}>${copied ? 'Copied' : 'Copy'}</button>
    ${onDone ? html`<button type="button" class="secondary" onClick=${onDone}>I have saved it</button>` : null}</p></div>`
}

/** A labelled control; the hint sits outside the label so the control's name stays just the label. */
export const Field = ({ label, hint, children }: { label: string; hint?: string; children: ComponentChildren }) => html`
  <div class="field"><label><span class="label">${label}</span>${children}</label>${hint ? html`<span class="hint">${hint}</span>` : null}</div>`

export const Stat = ({ label, value, hint }: { label: string; value: ComponentChildren; hint?: ComponentChildren }) => html`
  <div class="stat"><div class="stat-label">${label}</div><div class="stat-value">${value}</div>${hint ? html`<div class="stat-hint">${hint}</div>` : null}</div>`

export const Json = ({ value }: { value: unknown }) =>
  html`<pre class="json" tabindex="0">${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}</pre>`

/** Form values as an object of strings (named inputs), for small create forms. */
export const formValues = (e: Event) => {
  e.preventDefault()
  return Object.fromEntries(new FormData(e.currentTarget as HTMLFormElement).entries()) as Record<string, string>
}
