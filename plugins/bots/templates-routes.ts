import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import { enforceRate } from '../../src/http/rate-limit'
import { clientIp } from '../../src/http/client-ip'
import * as templates from './templates'
import { CreateTemplate, Template, TemplateQuery, UpdateTemplate } from './templates-model'

/** Anonymous template reads are limited per client IP. */
export const PUBLIC_TEMPLATE_RPM = 120

const Envelope = t.Object({ template: Template })
const Params = t.Object({ templateId: t.String({ minLength: 1, maxLength: 100 }) })

/** /api/bots/templates (mounted by botsPlugin, whose /api/bots prefix applies): public reads (system templates, plus your own when signed in) and your templates' CRUD. */
export const botTemplatesPlugin = (k: Kernel) =>
  new Elysia({ name: 'bot-templates', seed: k.seed, prefix: '/templates', detail: { tags: ['Bot templates'] } })
    .use(authGuard(k))
    .get('', ({ query, maybePrincipal, request, server, set }) => {
      if (!maybePrincipal) enforceRate(k.limiter, set, `bot-templates:${clientIp(request, server, k.config.trustProxy)}`, PUBLIC_TEMPLATE_RPM)
      return { templates: templates.list(k, maybePrincipal, query) }
    }, {
      optionalAuth: true, query: TemplateQuery, response: t.Object({ templates: t.Array(Template) }),
      detail: { summary: 'List bot templates (no auth; signed-in callers also see their own)', security: [] },
    })
    .get('/:templateId', ({ params, maybePrincipal, request, server, set }) => {
      if (!maybePrincipal) enforceRate(k.limiter, set, `bot-templates:${clientIp(request, server, k.config.trustProxy)}`, PUBLIC_TEMPLATE_RPM)
      return { template: templates.toTemplateView(templates.requireVisible(k, maybePrincipal, params.templateId)) }
    }, { optionalAuth: true, params: Params, response: Envelope, detail: { summary: 'Get a bot template (no auth)', security: [] } })
    .post('', ({ principal, body, set }) => {
      set.status = 201
      return { template: templates.create(k, principal, body) }
    }, { auth: 'bots.write', body: CreateTemplate, response: { 201: Envelope }, detail: { summary: 'Create your own bot template' } })
    .patch('/:templateId', ({ principal, params, body }) => ({ template: templates.update(k, principal, params.templateId, body) }), {
      auth: 'bots.write', params: Params, body: UpdateTemplate, response: Envelope,
      detail: { summary: 'Update your bot template (system templates: 403)' },
    })
    .delete('/:templateId', ({ principal, params }) => {
      templates.remove(k, principal, params.templateId)
      return { deleted: true }
    }, { auth: 'bots.write', params: Params, response: t.Object({ deleted: t.Boolean() }), detail: { summary: 'Delete your bot template (system templates: 403)' } })
