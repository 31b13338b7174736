import { signal } from '@preact/signals'

/** A failed API call: the server's `{ error, code, details }` with the HTTP status. */
export class ApiFailure extends Error {
  constructor(public status: number, message: string, public code?: string, public details?: Record<string, string>) {
    super(message)
  }
}

/** Called on any 401 so the shell can fall back to the sign-in screen. */
let onSignedOut = () => {}
export const whenSignedOut = (fn: () => void) => { onSignedOut = fn }

type Options = { method?: string; body?: unknown; signal?: AbortSignal }

/** The documented API over the session cookie (same origin: the server's Origin check accepts it). */
export async function api<T = any>(path: string, { method = 'GET', body, signal: abort }: Options = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  const init: RequestInit = { method, headers, credentials: 'same-origin', signal: abort }
  if (body !== undefined) {
    headers['content-type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  const res = await fetch(path, init)
  const text = await res.text()
  let data: any = null
  try { data = text ? JSON.parse(text) : null } catch { data = { error: text.slice(0, 200) } }
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith('/api/auth/')) onSignedOut()
    throw new ApiFailure(res.status, data?.error ?? `Request failed (${res.status})`, data?.code, data?.details)
  }
  return data as T
}

/**
 * The API's own OpenAPI document tells which routes this server has: a page whose API is missing
 * (a feature not in this build) shows "not available" instead of failing. Fetched once, on first need.
 */
export const apiPaths = signal<Set<string> | null>(null)
let pathsLoading: Promise<void> | null = null
export function ensureApiPaths() {
  pathsLoading ??= api<{ paths: Record<string, unknown> }>('/swagger/json').then(
    (doc) => { apiPaths.value = new Set(Object.keys(doc.paths)) },
    () => { apiPaths.value = new Set() },
  )
  return pathsLoading
}
/** Whether the route list is known yet (asking starts the fetch). */
export const apiKnown = () => {
  if (!apiPaths.value) ensureApiPaths()
  return apiPaths.value !== null
}
/** `path` in OpenAPI form, e.g. `/api/chat/conversations/{id}`; false until the route list is known. */
export const hasApi = (path: string) => (apiKnown() ? apiPaths.value!.has(path) : false)

/** Query string from the set values only. */
export const qs = (params: Record<string, string | number | null | undefined>) => {
  const q = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== null && value !== undefined && value !== '') q.set(key, String(value))
  const s = q.toString()
  return s ? `?${s}` : ''
}

/**
 * Lists arrive as `{ <key>: [...] }`, as the hub reference's `{ success, data }` envelope, or bare:
 * read any of them (the newer APIs follow the reference's envelope).
 */
export function items<T = any>(body: any, key: string): T[] {
  if (Array.isArray(body)) return body
  const inner = body?.[key] ?? body?.data?.[key] ?? body?.data
  return Array.isArray(inner) ? inner : []
}
/** A single object, bare or in the `{ success, data }` envelope or `{ <key>: {...} }`. */
export const one = (body: any, key: string) => body?.[key] ?? (body?.data && !Array.isArray(body.data) ? body.data[key] ?? body.data : body)
