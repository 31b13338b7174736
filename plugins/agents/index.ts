import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import { agentTemplates } from './templates'
import * as agents from './service'
import { Agent, AgentParams, AgentStatus, Analytics, DeployAgent, ExecuteResponse, ScheduleAgent, ScheduledResponse, ScheduleConfig, AgentConfig } from './model'

const Template = t.Object({
  id: t.String(), name: t.String(), description: t.String(), category: t.String(), workflow_template_id: t.String(), required_platforms: t.Array(t.String()),
  workflow_template: t.Object({ id: t.String(), name: t.String(), difficulty: t.String() }),
  agent_config: AgentConfig, schedule_config: ScheduleConfig,
})

/** Scheduled autonomous agents: `/api/agents` per the hub reference, on the scheduler and the workflow engine. */
export const agentsPlugin = (k: Kernel) =>
  new Elysia({ name: 'agents', seed: k.seed, prefix: '/api/agents', detail: { tags: ['Agents'] } })
    .use(authGuard(k))
    .get('/templates', () => ({ templates: agentTemplates() }), {
      response: t.Object({ templates: t.Array(Template) }), detail: { summary: 'Ready agent configurations built on the workflow templates' },
    })
    .post('', ({ principal, body, set }) => {
      set.status = 201
      return agents.deploy(k, principal, body.workflow_id, body.agent_config)
    }, { auth: 'agents.write', body: DeployAgent, response: { 201: Agent }, detail: { 'x-errors': [409], summary: 'Deploy a workflow of yours as an autonomous agent' } })
    .post('/schedule', ({ principal, body }) => agents.schedule(k, principal, body.agent_id, body.schedule_config), {
      auth: 'agents.write', body: ScheduleAgent, response: ScheduledResponse,
      detail: { summary: 'Schedule an agent (interval or cron in a zone); answers the next 5 run times in the zone and in UTC' },
    })
    .get('', ({ principal }) => agents.list(k, principal), {
      auth: 'agents.read', response: t.Array(Agent), detail: { summary: 'Your agents' },
    })
    .get('/:agent_id/status', ({ principal, params }) => agents.status(k, principal, params.agent_id), {
      auth: 'agents.read', params: AgentParams, response: AgentStatus, detail: { summary: 'Health and monitoring: counts, success rate, next runs, missed and skipped slots' },
    })
    .post('/:agent_id/pause', ({ principal, params }) => agents.pause(k, principal, params.agent_id), {
      auth: 'agents.write', params: AgentParams, response: Agent, detail: { summary: 'Pause an agent (no scheduled fires until resumed)' },
    })
    .post('/:agent_id/resume', ({ principal, params }) => agents.resume(k, principal, params.agent_id), {
      auth: 'agents.write', params: AgentParams, response: Agent, detail: { summary: 'Resume an agent; slots missed while paused get the catch-up policy once' },
    })
    .delete('/:agent_id', ({ principal, params }) => {
      agents.remove(k, principal, params.agent_id)
      return { deleted: true }
    }, { auth: 'agents.write', params: AgentParams, response: t.Object({ deleted: t.Boolean() }), detail: { summary: 'Delete an agent, its schedule and its run history' } })
    .post('/:agent_id/execute', async ({ principal, params, body, set }) => {
      const r = await agents.execute(k, principal, params.agent_id, body)
      set.status = r.code
      return r.body
    }, {
      auth: 'agents.write', params: AgentParams, body: t.Optional(t.Any()), response: { 200: ExecuteResponse, 202: ExecuteResponse },
      detail: { 'x-errors': [402, 409],
        summary: 'Run an agent now (the JSON body is its input); respects the overlap policy, marked manual',
        description: 'Answers 409 overlap_skipped when a fire runs and the overlap policy is "skip", 202 when queued behind it, and 402 budget_exceeded (naming max_cost_cents_per_day) when the agent\'s daily cost budget is reached.',
      },
    })
    .get('/:agent_id/analytics', ({ principal, params }) => agents.analytics(k, principal, params.agent_id), {
      auth: 'agents.read', params: AgentParams, response: Analytics, detail: { summary: 'Executions per day, success rate, duration, tokens, cost, most common errors' },
    })

