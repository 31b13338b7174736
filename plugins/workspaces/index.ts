import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import * as workspaces from './service'
import { CreateWorkspace, UpdateWorkspace, Workspace } from './model'

const Envelope = t.Object({ workspace: Workspace })

export const workspacesPlugin = (k: Kernel) =>
  new Elysia({ name: 'workspaces', seed: k.seed, prefix: '/api/workspaces', detail: { tags: ['Workspaces'] } })
    .use(authGuard(k))
    .get('', ({ principal }) => ({ workspaces: workspaces.list(k, principal) }), {
      auth: 'workspaces.read', response: t.Object({ workspaces: t.Array(Workspace) }), detail: { summary: 'List your workspaces' },
    })
    .post('', ({ principal, body, set }) => {
      set.status = 201
      return { workspace: workspaces.create(k, principal, body) }
    }, { auth: 'workspaces.write', body: CreateWorkspace, response: { 201: Envelope }, detail: { summary: 'Create a workspace' } })
    .get('/:id', ({ principal, params }) => ({ workspace: workspaces.requireOwned(k, principal, params.id) }), {
      auth: 'workspaces.read', response: Envelope, detail: { summary: 'Get a workspace' },
    })
    .patch('/:id', ({ principal, params, body }) => ({ workspace: workspaces.update(k, principal, params.id, body) }), {
      auth: 'workspaces.write', body: UpdateWorkspace, response: Envelope, detail: { summary: 'Update a workspace' },
    })
    .delete('/:id', ({ principal, params }) => {
      workspaces.remove(k, principal, params.id)
      return { deleted: true }
    }, { auth: 'workspaces.write', response: t.Object({ deleted: t.Boolean() }), detail: { summary: 'Delete a workspace and everything in it' } })
