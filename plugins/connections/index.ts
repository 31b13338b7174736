import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import * as connections from './service'
import { Connection, CreateConnection, PlatformInfo, TestConfig, TestResult, UpdateConnection } from './model'

const Envelope = t.Object({ connection: Connection })
const IdParams = t.Object({ id: t.String() })

/** Platform connections (the hub-style integrations API): /api/connections. */
export const connectionsPlugin = (k: Kernel) =>
  new Elysia({ name: 'connections', seed: k.seed, prefix: '/api/connections', detail: { tags: ['Connections'] } })
    .use(authGuard(k))
    .get('/platforms', () => ({ platforms: connections.platforms() }), {
      response: t.Object({ platforms: t.Array(PlatformInfo) }),
      detail: { summary: 'The platform registry: each platform\'s config schema, the tools it enables and a docs link' },
    })
    .get('', ({ principal }) => ({ connections: connections.list(k, principal) }), {
      auth: 'connections.read', response: t.Object({ connections: t.Array(Connection) }),
      detail: { summary: 'List your connections (status active, error with error_message, expired, disabled; config never returned)' },
    })
    .post('', async ({ principal, body, set }) => {
      const c = await connections.create(k, principal, body)
      set.status = 201
      return { connection: c }
    }, {
      auth: 'connections.write', body: CreateConnection, response: { 201: Envelope },
      detail: { summary: 'Create a connection: authenticates against the platform (status active, or error with its message) and enables its tools' },
    })
    .post('/test', ({ body }) => connections.testConfig(k, body), {
      auth: 'connections.write', body: TestConfig, response: TestResult, detail: { summary: 'Test a platform config before saving it (nothing is stored)' },
    })
    .patch('/:id', async ({ principal, params, body }) => ({ connection: await connections.update(k, principal, params.id, body) }), {
      auth: 'connections.write', params: IdParams, body: UpdateConnection, response: Envelope,
      detail: { summary: 'Rename, replace the config (re-authenticates), re-activate or disable a connection' },
    })
    .delete('/:id', ({ principal, params }) => {
      connections.remove(k, principal, params.id)
      return { deleted: true }
    }, { auth: 'connections.write', params: IdParams, response: t.Object({ deleted: t.Boolean() }), detail: { summary: 'Delete a connection' } })
    .post('/:id/test', ({ principal, params }) => connections.test(k, principal, params.id), {
      auth: 'connections.write', params: IdParams, response: TestResult, detail: { summary: 'Re-authenticate a stored connection and record the outcome' },
    })
