import { computed, signal } from '@preact/signals'
import { api } from './api'

export interface User { id: string; email: string; role: string }
export interface Workspace { id: string; name: string }

/** null until the first GET /api/auth/session answers. */
export const session = signal<{ user: User | null; setup_required: boolean; open_registration: boolean } | null>(null)
export const user = computed(() => session.value?.user ?? null)

export const workspaces = signal<Workspace[]>([])
const STORED = 'agentbase.workspace'
export const workspaceId = signal<string | null>(localStorage.getItem(STORED))

export async function refreshSession() {
  session.value = await api('/api/auth/session')
}

/** The caller's workspaces; the selected one survives reloads, falling back to the first. */
export const workspacesLoaded = signal(false)
let loads = 0
export async function loadWorkspaces() {
  const mine = ++loads
  const { workspaces: list } = await api<{ workspaces: Workspace[] }>('/api/workspaces')
  if (mine !== loads) return // a newer load (e.g. after creating one) already answered
  workspaces.value = list
  workspacesLoaded.value = true
  if (!list.some((w) => w.id === workspaceId.value)) selectWorkspace(list[0]?.id ?? null)
}

export function selectWorkspace(id: string | null) {
  workspaceId.value = id
  if (id) localStorage.setItem(STORED, id)
  else localStorage.removeItem(STORED)
}

/** Hash routes: `#/bots/bt_123` -> ['bots', 'bt_123']. */
const parse = () => location.hash.replace(/^#\/?/, '').split('?')[0].split('/').filter(Boolean).map(decodeURIComponent)
export const route = signal<string[]>(parse())
addEventListener('hashchange', () => { route.value = parse() })
export const go = (path: string) => { location.hash = path }
