import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import * as runs from './service'
import { liveFeed } from './live'
import { LiveQuery, RunList, RunListQuery } from './model'

/** The caller's runs across every surface (DESIGN §12): GET /api/runs and its live feed. One run: agent-endpoints' run routes. */
export const runsPlugin = (k: Kernel) =>
  new Elysia({ name: 'runs', seed: k.seed, prefix: '/api/runs', detail: { tags: ['Runs'] } })
    .use(authGuard(k))
    .get('', ({ principal, query }) => runs.list(k, principal, query), {
      auth: true, query: RunListQuery, response: RunList,
      detail: {
        summary: 'Your runs across every source (endpoint, bot, chat, workflow, schedule, task, openai, mcp), newest first',
        description: 'Filters: status, source, source_id (the agent). A token lists only sources its scopes may read (as GET /api/runs/:id). '
          + 'Cursor pagination: pass next_cursor as cursor. Admin tokens: all=true lists every user\'s runs.',
      },
    })
    .get('/live', ({ principal, query, request }) => liveFeed(k, principal, query, request) as unknown as string, {
      auth: true, query: LiveQuery,
      response: { 200: t.String({ description: 'text/event-stream (DESIGN §6): `ready` first, then `run.updated` {id, run} (the list item) when one of your runs is created or changes status; `: keepalive` every 15 s; ends after 30 minutes (EventSource reconnects)' }) },
      detail: { summary: 'Live feed of your runs as SSE (same scope rules and source filters as GET /api/runs)' },
    })
