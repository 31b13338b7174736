import { BEARER, BEARER_OR_KEY } from './guard'

/**
 * What the global hooks need to know about the matched route before its own hooks run: the body types it
 * accepts (its `type` option; JSON when absent) and whether the auth macro guards it (the macro's own
 * OpenAPI security arrays, by identity: a route that declares security by hand checks callers itself).
 * Read from the app's route table, indexed once per route count.
 */
export interface RouteInfo { accepts: Set<BodyKind>; needsAuth: boolean; apiKeyHeader: boolean }
export type BodyKind = 'json' | 'form' | 'text'

const KINDS: Record<string, BodyKind> = {
  json: 'json', 'application/json': 'json',
  urlencoded: 'form', 'application/x-www-form-urlencoded': 'form',
  text: 'text', 'text/plain': 'text',
}
export const MEDIA: Record<BodyKind, string> = { json: 'application/json', form: 'application/x-www-form-urlencoded', text: 'text/plain' }

const JSON_ONLY: RouteInfo = { accepts: new Set(['json']), needsAuth: false, apiKeyHeader: false }

type RouteLike = { method: string; path: string; hooks?: { type?: string | string[]; detail?: { security?: Record<string, string[]>[] } } }

/** The body kinds a route declares with Elysia's `type` option (JSON only when it declares none). */
export function acceptedKinds(type: string | string[] | undefined): Set<BodyKind> {
  const list = type === undefined ? [] : Array.isArray(type) ? type : [type]
  const kinds = new Set(list.map((x) => KINDS[x]).filter(Boolean))
  return kinds.size ? kinds : new Set(['json'])
}

export class RouteIndex {
  private byKey = new Map<string, RouteInfo>()
  private seen = -1
  constructor(private routes: () => RouteLike[]) {}

  get(method: string, path: string): RouteInfo {
    const all = this.routes()
    if (all.length !== this.seen) this.build(all)
    return this.byKey.get(`${method} ${path}`) ?? JSON_ONLY
  }

  private build(all: RouteLike[]) {
    this.seen = all.length
    this.byKey.clear()
    for (const r of all) {
      const security = r.hooks?.detail?.security
      const needsAuth = security === BEARER || security === BEARER_OR_KEY
      const apiKeyHeader = security === BEARER_OR_KEY
      this.byKey.set(`${r.method} ${r.path}`, { accepts: acceptedKinds(r.hooks?.type), needsAuth, apiKeyHeader })
    }
  }
}

/**
 * Checks a route runs before its body is read (after the auth check): e.g. the agent-endpoint run route
 * authorizes the caller against the endpoint, so a wrong key is a 401 whatever the body. Per kernel.
 */
export type BodyGate = (request: Request, params: Record<string, string>) => Promise<void> | void
const gates = new WeakMap<object, Map<string, BodyGate>>()
export function beforeBody(k: object, method: string, route: string, gate: BodyGate) {
  let m = gates.get(k)
  if (!m) gates.set(k, (m = new Map()))
  m.set(`${method} ${route}`, gate)
}
export const bodyGate = (k: object, method: string, route: string) => gates.get(k)?.get(`${method} ${route}`)
