import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import { enforceRate } from '../../src/http/rate-limit'
import * as endpoints from './service'
import { runSync, syncShape } from './execute'
import { runRoutes } from './run-routes'
import {
  CreateEndpoint, Created, Regenerated, Endpoint, EndpointEnvelope, Run, RunsQuery, Template, TemplatesQuery, TestBody, TestResult, UpdateEndpoint,
} from './model'

/** Tests from the dashboard: per user, per minute (reference: "Rate limited to 10 per minute"). */
export const TEST_RPM = 10

const Id = t.Object({ id: t.String({ minLength: 1, maxLength: 100 }) })

/** Management of agent endpoints (`/api/agent-endpoints`), templates, and the execution routes. */
export const agentEndpointsPlugin = (k: Kernel) =>
  new Elysia({ name: 'agent-endpoints', seed: k.seed })
    .use(management(k))
    .use(runRoutes(k))

const management = (k: Kernel) =>
  new Elysia({ name: 'agent-endpoints.manage', seed: k.seed, prefix: '/api/agent-endpoints', detail: { tags: ['Agent endpoints'] } })
    .use(authGuard(k))
    .get('/templates/list', ({ query }) => ({ templates: endpoints.listTemplates(k, query.type ?? null) }), {
      query: TemplatesQuery, response: t.Object({ templates: t.Array(Template) }),
      detail: { summary: 'List endpoint templates (no authentication), most popular first', security: [] },
    })
    .get('', ({ principal }) => ({ endpoints: endpoints.list(k, principal) }), {
      auth: 'endpoints.read', response: t.Object({ endpoints: t.Array(Endpoint) }), detail: { summary: 'List your agent endpoints' },
    })
    .post('', async ({ principal, body, set }) => {
      const created = await endpoints.create(k, principal, body)
      set.status = 201
      return created
    }, {
      auth: 'endpoints.write', body: CreateEndpoint, response: { 201: Created },
      detail: { summary: 'Create an agent endpoint (the api_key is shown only here); optionally from a template_id' },
    })
    .get('/:id', ({ principal, params }) => ({ endpoint: endpoints.toView(endpoints.requireOwned(k, principal, params.id)) }), {
      auth: 'endpoints.read', params: Id, response: EndpointEnvelope, detail: { summary: 'Get an agent endpoint' },
    })
    .patch('/:id', async ({ principal, params, body }) => ({ endpoint: await endpoints.update(k, principal, params.id, body) }), {
      auth: 'endpoints.write', params: Id, body: UpdateEndpoint, response: EndpointEnvelope,
      detail: { summary: 'Update an agent endpoint (every field optional; workspace_id cannot change)' },
    })
    .delete('/:id', ({ principal, params }) => {
      endpoints.remove(k, principal, params.id)
      return { deleted: true }
    }, { auth: 'endpoints.write', params: Id, response: t.Object({ deleted: t.Boolean() }), detail: { summary: 'Delete an agent endpoint and all its run history' } })
    .post('/:id/activate', ({ principal, params }) => endpoints.setStatus(k, principal, params.id, 'active'), {
      auth: 'endpoints.write', params: Id, response: t.Object({ status: t.Literal('active') }), detail: { summary: 'Activate (only active endpoints run)' },
    })
    .post('/:id/deactivate', ({ principal, params }) => endpoints.setStatus(k, principal, params.id, 'paused'), {
      auth: 'endpoints.write', params: Id, response: t.Object({ status: t.Literal('paused') }), detail: { summary: 'Pause: runs answer 404 until activated again' },
    })
    .post('/:id/regenerate-key', ({ principal, params }) => endpoints.regenerateKey(k, principal, params.id), {
      auth: 'endpoints.write', params: Id, response: Regenerated,
      detail: { summary: 'New API key and callback secret; the previous ones stop working at once' },
    })
    .get('/:id/runs', ({ principal, params, query }) => ({ runs: endpoints.listRuns(k, principal, params.id, query.limit ?? 50) }), {
      auth: 'endpoints.read', params: Id, query: RunsQuery, response: t.Object({ runs: t.Array(Run) }),
      detail: { summary: 'Run history, newest first (limit default 50, max 100)' },
    })
    .post('/:id/test', async ({ principal, params, body, set }) => {
      const ep = endpoints.requireOwned(k, principal, params.id)
      enforceRate(k.limiter, set, `aep-test:${principal.userId}`, TEST_RPM, 'Rate limited: at most 10 test runs per minute')
      return syncShape(await runSync(k, ep, body.input, 'test', 'dashboard'))
    }, {
      auth: { session: true }, params: Id, body: TestBody, response: TestResult,
      detail: { summary: 'Test run from the dashboard (login session only; 10 per minute; logged with status "test")' },
    })
