import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import { publicBase } from '../../src/http/client-ip'
import * as templates from './service'

/** /api/templates in the reference's envelope `{ success, data, message }`. Listing and reading need no sign-in. */
const ok = (data: unknown, message: string) => ({ success: true, data, message })
const Envelope = t.Object({ success: t.Boolean(), data: t.Any(), message: t.String() })
const Refusal = t.Object({ success: t.Boolean(), data: t.Any(), message: t.String(), error: t.String(), code: t.String() })
const nullable = t.Optional(t.Nullable(t.String({ maxLength: 200 })))

export const templatesPlugin = (k: Kernel) =>
  new Elysia({ name: 'templates', seed: k.seed, prefix: '/api/templates', detail: { tags: ['Templates'] } })
    .use(authGuard(k))
    .get('', ({ query }) => {
      const list = templates.list(query)
      return ok(list, `${list.length} template${list.length === 1 ? '' : 's'}`)
    }, { query: t.Object({ category: nullable, difficulty: nullable, search: nullable, connection: nullable }), response: Envelope, detail: { summary: 'List workflow templates (filter by category, difficulty, search, connection)' } })
    .get('/categories', () => ok(templates.categories(), 'Template categories'), { response: Envelope, detail: { summary: 'Template categories with counts' } })
    .get('/:template_id', ({ params }) => ok(templates.get(params.template_id), 'Template'), {
      params: t.Object({ template_id: t.String({ minLength: 1, maxLength: 100 }) }), response: Envelope, detail: { summary: 'Get a template' },
    })
    .post('/:template_id/use', async ({ principal, params, query, body, request, set }) => {
      const r = await templates.use(k, principal, params.template_id, body ?? {}, { dryRun: query.dry_run === 'true', base: publicBase(request, k.config.publicUrl, k.config.trustProxy) })
      if (r.missing) {
        set.status = 409
        return { success: false, data: r.data, message: r.message, error: r.message, code: 'missing_connections' }
      }
      if (query.dry_run !== 'true') set.status = 201
      return ok(r.data, r.message)
    }, {
      auth: 'workflows.write',
      response: { 200: Envelope, 201: Envelope, 409: Refusal },
      params: t.Object({ template_id: t.String({ minLength: 1, maxLength: 100 }) }),
      query: t.Object({ dry_run: t.Optional(t.String({ description: '"true": execute against input_data (or the example) without side effects; nothing is saved' })) }),
      body: t.Optional(t.Object({
        name: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
        variables: t.Optional(t.Record(t.String(), t.Any(), { description: "Values for the template's variables" })),
        workspace_id: t.Optional(t.Nullable(t.String())),
        input_data: t.Optional(t.Record(t.String(), t.Any(), { description: 'Dry run input (default: the template example)' })),
        status: t.Optional(t.String({ description: 'draft (default) or active' })),
      }, { additionalProperties: false })),
      detail: { summary: 'Create a workflow from a template (or ?dry_run=true); answers what is missing first' },
    })
