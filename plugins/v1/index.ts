import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import { ApiError } from '../../src/http/errors'
import { clientIp } from '../../src/http/client-ip'
import { sseResponse } from '../../src/http/sse'
import { requireScope } from '../../src/auth/principal'
import * as webhooks from '../webhooks/service'
import { listAgents, requireAgent, toAgentView } from './agents'
import { checkMessage, execute, runInBackground, submit, taskView } from './tasks'
import { changeSkills } from './skills'
import { usage } from './usage'
import { tasksStore } from './store'
import { Agent, AgentId, Delivered, MessageBody, MessageQuery, SkillsBody, Task, TaskPage, TasksQuery, Usage, UsageQuery, WebhookBody, WebhookCreated } from './model'

/**
 * The compact `/v1` API (reference: v1-api.txt): agents, messages -> tasks, skills, webhooks, usage.
 * Statuses are only those of the reference's table (200, 201, 400, 401, 404, 429, 500): see `referenceStatus`.
 */

/** The reference's status table: a refusal for scope is 401, other client errors 400, server-side failures 500. */
export function referenceStatus(status: number): number {
  if ([200, 201, 400, 401, 404, 429, 500].includes(status) || status < 400) return status
  if (status === 403) return 401
  return status >= 500 ? 500 : 400
}

const TaskId = t.Object({ task_id: t.String({ minLength: 1, maxLength: 100 }) })

export const v1Plugin = (k: Kernel) =>
  new Elysia({ name: 'v1', seed: k.seed, prefix: '/v1', detail: { tags: ['v1'] } })
    .use(authGuard(k))
    .mapResponse({ as: 'local' }, ({ responseValue, set }) => {
      const status = typeof set.status === 'number' ? set.status : 200
      const mapped = referenceStatus(status)
      if (mapped === status || responseValue instanceof Response) return
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      for (const [key, v] of Object.entries(set.headers)) if (v !== undefined) headers[key] = String(v)
      return new Response(JSON.stringify(responseValue), { status: mapped, headers })
    })
    .get('/agents', ({ principal }) => ({ data: listAgents(k, principal) }), {
      auth: true, response: t.Object({ data: t.Array(Agent) }),
      detail: { summary: 'List the agents this token can reach: bots (bt_) and agent endpoints (aep_), newest first' },
    })
    .get('/agents/:id', ({ principal, params }) => toAgentView(requireAgent(k, principal, params.id)), {
      auth: true, params: AgentId, response: Agent, detail: { summary: 'Get an agent' },
    })
    .post('/agents/:id/message', async ({ principal, params, body, query, request, server, set }) => {
      const agent = requireAgent(k, principal, params.id, 'run')
      checkMessage(body)
      const task = submit(k, principal, agent, body)
      const callerIp = clientIp(request, server, k.config.trustProxy)
      if ((request.headers.get('accept') ?? '').includes('text/event-stream')) {
        return sseResponse(k, execute(k, task, agent, { callerIp, stream: true, principal }), { signal: request.signal, headers: { 'x-agentbase-task-id': task.id } }) as never
      }
      const done = runInBackground(k, execute(k, task, agent, { callerIp, stream: false, principal }))
      if (query.wait) {
        await done
        return taskView(tasksStore(k.db).get(task.id)!) as never
      }
      set.status = 201
      return { id: task.message_id, status: 'delivered' as const, agent_id: agent.id, task_id: task.id, created_at: task.created_at }
    }, {
      auth: true, params: AgentId, body: MessageBody, query: MessageQuery, response: { 200: Task, 201: Delivered },
      detail: {
        summary: 'Send a message to an agent: 201 at once and the agent works on it as a task; ?wait=true answers with the finished task; Accept: text/event-stream streams the run',
      },
    })
    .get('/agents/:id/tasks', ({ principal, params, query }) => {
      const agent = requireAgent(k, principal, params.id)
      const limit = query.limit ?? 20
      const rows = tasksStore(k.db).page(agent.id, query.state ?? null, query.cursor ?? null, limit + 1)
      const page = rows.slice(0, limit)
      const more = rows.length > limit
      return { data: page.map(taskView), has_more: more, next_cursor: more ? page.at(-1)!.id : null }
    }, {
      auth: true, params: AgentId, query: TasksQuery, response: TaskPage,
      detail: { summary: 'The agent\'s tasks, newest first (cursor pagination; filter by state)' },
    })
    .get('/tasks/:task_id', ({ principal, params }) => {
      const task = tasksStore(k.db).get(params.task_id)
      if (!task) throw new ApiError(404, 'Task not found', 'not_found')
      try { requireAgent(k, principal, task.agent_id) } catch { throw new ApiError(404, 'Task not found', 'not_found') }
      return taskView(task)
    }, { auth: true, params: TaskId, response: Task, detail: { summary: 'Get a task (A2A states: submitted, working, completed, failed, canceled)' } })
    .put('/agents/:id/skills', async ({ principal, params, body }) => {
      const agent = requireAgent(k, principal, params.id, 'write')
      return toAgentView(await changeSkills(k, principal, agent, body))
    }, {
      auth: true, params: AgentId, body: SkillsBody, response: Agent,
      detail: { summary: 'Install or remove skills: tool names, MCP servers (mcp_...: all their tools), connections (con_...)' },
    })
    .post('/webhooks', async ({ principal, body, set }) => {
      requireScope(principal, 'webhooks.manage')
      const created = await webhooks.create(k, webhooks.userReach(principal), { url: body.url, events: body.events, ...(body.secret ? { secret: body.secret } : {}) })
      set.status = 201
      const w = created.webhook
      return { id: w.id, url: w.url, events: w.events, enabled: w.enabled, created_at: w.created_at, ...(created.secret ? { secret: created.secret } : {}) }
    }, {
      auth: true, body: WebhookBody, response: { 201: WebhookCreated },
      detail: { summary: 'Register a webhook (Standard Webhooks signatures, retries, delivery log; manage it under /api/webhooks)' },
    })
    .get('/analytics/usage', ({ principal, query }) => {
      requireScope(principal, 'analytics.read')
      return usage(k, principal, query)
    }, {
      auth: true, query: UsageQuery, response: Usage,
      detail: { summary: 'Runs, tokens in/out, cost and errors per hour or day, grouped by agent, model, channel or token' },
    })
