import { Elysia } from 'elysia'
import bundleJs from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' }
import presetJs from 'swagger-ui-dist/swagger-ui-standalone-preset.js' with { type: 'file' }
import css from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' }
import type { Kernel } from '../../src/kernel'
import { VERSION } from '../../src/version'
import { buildOpenApi, type RouteLike } from './openapi'

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Agentbase API</title><link rel="stylesheet" href="/swagger/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/swagger/assets/swagger-ui-bundle.js"></script>
<script src="/swagger/assets/swagger-ui-standalone-preset.js"></script>
<script>window.onload = () => { window.ui = SwaggerUIBundle({ url: '/swagger/json', dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' }) }</script>
</body></html>`

const assets: Record<string, { path: string; type: string }> = {
  'swagger-ui-bundle.js': { path: bundleJs, type: 'application/javascript; charset=utf-8' },
  'swagger-ui-standalone-preset.js': { path: presetJs, type: 'application/javascript; charset=utf-8' },
  'swagger-ui.css': { path: css, type: 'text/css; charset=utf-8' },
}

const base = {
  info: {
    title: 'Agentbase API',
    version: VERSION,
    description: 'Self-hosted AI agents, bots, endpoints, tools and webhooks. Errors are always `{ "error": "...", "code": "..." }` '
      + '(plus `details` for validation errors); every answer carries `X-Request-Id`, and rate-limited routes `X-RateLimit-*`.',
  },
  securitySchemes: {
    bearer: { type: 'http', scheme: 'bearer', description: 'A login JWT, an ab_pat_ API token, or a bot_ key' },
    apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'Agent endpoint key (aek_) where allowed' },
    metricsToken: { type: 'http', scheme: 'bearer', description: 'AGENTBASE_METRICS_TOKEN, when set' },
  },
  // Per-route security comes from the auth macro (src/http/guard.ts): public routes show none.
  tags: [
    { name: 'Auth', description: 'Accounts, login sessions (JWT and cookie)' },
    { name: 'API tokens', description: 'Personal, workspace and admin tokens (ab_pat_...)' },
    { name: 'Workspaces', description: 'Workspaces own MCP servers, connections, bots and endpoints' },
    { name: 'Wallet', description: 'Balance and ledger' },
    { name: 'Admin', description: 'Instance administration (admins)' },
    { name: 'Operations', description: 'Health and metrics' },
  ],
}

/**
 * The OpenAPI 3.1 document (./openapi.ts), built on the first GET /swagger/json and again when routes were
 * added: the idle server never builds it.
 */
function openApi(app: Elysia, cache: { doc: unknown; total: number }) {
  // This instance's router history is the whole app's once it is used.
  const routes = (app as any).getGlobalRoutes() as RouteLike[]
  if (routes.length !== cache.total || !cache.doc) {
    cache.total = routes.length
    cache.doc = buildOpenApi(routes, base)
  }
  return cache.doc
}

/**
 * OpenAPI at /swagger/json (built on first request from every route's schemas) and a Swagger UI page
 * at /swagger served from assets embedded in the binary: it renders with no internet.
 */
export const docsPlugin = (_k: Kernel) => {
  const cache = { doc: null as unknown, total: 0 }
  const app = new Elysia({ name: 'docs' })
  return app
    .get('/swagger/json', () => openApi(app as Elysia, cache), { detail: { hide: true } })
    .get('/swagger', ({ set }) => {
      set.headers['content-type'] = 'text/html; charset=utf-8'
      return page
    }, { detail: { hide: true } })
    .get('/swagger/assets/:file', ({ params, set }) => {
      const a = assets[params.file]
      if (!a) {
        set.status = 404
        return { error: 'No such asset', code: 'not_found' }
      }
      set.headers['content-type'] = a.type
      set.headers['cache-control'] = 'public, max-age=86400'
      return Bun.file(a.path)
    }, { detail: { hide: true } })
}
