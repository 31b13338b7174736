import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import { enforceRate } from '../../src/http/rate-limit'
import { publicBase } from '../../src/http/client-ip'
import { McpServer } from '../mcp/model'
import { Workspace } from '../workspaces/model'
import * as bots from './service'
import { analytics, insights } from './analytics'
import { getConversation, listConversations } from './conversations'
import { setup } from './setup'
import { testBot, TEST_RPM } from './test-run'
import { botTemplatesPlugin } from './templates-routes'
import { SetupBody } from './templates-model'
import {
  keepRaw, rawCheck, rejectNotUpdatable, rejectUnknownLlmConfig, Activation, Bot, BotEnvelope, ConversationDetail, ConversationList, CreateBot, ListQuery, MessagesQuery, TestBody, TestResult, UpdateBot,
} from './model'

const Id = t.Object({ id: t.String({ minLength: 1, maxLength: 100 }) })
const ConvParams = t.Object({ id: t.String({ minLength: 1, maxLength: 100 }), convId: t.String({ minLength: 1, maxLength: 100 }) })
const AnalyticsQuery = t.Object({
  from: t.Optional(t.String({ description: 'Start date YYYY-MM-DD (default 30 days before to)' })),
  to: t.Optional(t.String({ description: 'End date YYYY-MM-DD (default today, UTC)' })),
})
const Num = t.Number()
const Daily = t.Object({
  date: t.String(), messages: Num, messages_received: Num, messages_sent: Num, conversations: Num, new_conversations: Num,
  tokens_input: Num, tokens_output: Num, cost_cents: Num, errors: Num, avg_latency_ms: Num,
})
const Analytics = t.Object({
  bot_id: t.String(), from: t.String(), to: t.String(), daily: t.Array(Daily),
  summary: t.Object({
    messages: Num, messages_received: Num, messages_sent: Num, conversations: Num, new_conversations: Num, unique_users: Num,
    tokens_input: Num, tokens_output: Num, cost_cents: Num, errors: Num, avg_latency_ms: Num, spending_cap_stops: Num, quota_stops: Num,
  }),
  top_tools: t.Array(t.Object({ tool: t.String(), calls: Num, failures: Num, avg_latency_ms: Num })),
  avg_latency_ms: Num,
  conversations_by_status: t.Record(t.String(), Num),
  stop_reasons: t.Record(t.String(), Num),
  spending_cap: t.Object({ cap_cents: t.Nullable(Num), total_cost_cents: Num, reached: t.Boolean(), stops: Num }),
})
const Insights = t.Object({
  unanswered_questions: t.Array(t.Object({ question: t.String(), bot_response: t.String(), created_at: t.String(), conversation_id: t.String() })),
  resolution_rate: Num, total_answered: Num, total_responses: Num,
})

const base = (k: Kernel, request: Request) => publicBase(request, k.config.publicUrl, k.config.trustProxy)

/** /api/bots (the webhooks under /api/bots/webhook/* belong to the channels plugin). */
export const botsPlugin = (k: Kernel) =>
  new Elysia({ name: 'bots', seed: k.seed, prefix: '/api/bots', detail: { tags: ['Bots'] } })
    .use(botTemplatesPlugin(k))
    .use(authGuard(k))
    .get('', ({ principal }) => ({ bots: bots.list(k, principal) }), {
      auth: 'bots.read', response: t.Object({ bots: t.Array(Bot) }), detail: { summary: 'List your bots with conversation counts' },
    })
    .post('', async ({ principal, body, set, request }) => {
      await bots.checkBotSkills(k, principal, body)
      set.status = 201
      return { bot: bots.create(k, principal, body, { base: base(k, request) }) }
    }, {
      auth: 'bots.write', body: CreateBot, response: { 201: BotEnvelope }, transform: keepRaw, beforeHandle: rawCheck(rejectUnknownLlmConfig),
      detail: { summary: 'Create a bot (status draft)', description: 'Secrets (platform_config, llm_api_key) are stored encrypted and shown only as has_platform_config / has_llm_api_key.' },
    })
    .post('/setup', ({ principal, body, set }) => {
      set.status = 201
      return setup(k, principal, body)
    }, {
      auth: 'bots.write', body: SetupBody,
      response: { 201: t.Object({ bot: Bot, workspace: Workspace, mcp_servers: t.Array(McpServer), warnings: t.Array(t.String()) }) },
      detail: { summary: 'Setup wizard: workspace + the template\'s MCP servers + bot, in one transaction' },
    })
    .get('/:id', ({ principal, params, request }) => ({ bot: bots.toView(k, bots.requireBot(k, principal, params.id), { base: base(k, request), withTemplate: true }) }), {
      auth: 'bots.read', params: Id, response: BotEnvelope, detail: { summary: 'Get a bot (with template info)' },
    })
    .patch('/:id', async ({ principal, params, body, request }) => (await bots.checkBotSkills(k, principal, body, params.id), { bot: bots.toView(k, bots.update(k, principal, params.id, body), { base: base(k, request), withTemplate: true }) }), {
      auth: 'bots.write', params: Id, body: UpdateBot, response: BotEnvelope, transform: keepRaw, beforeHandle: rawCheck(rejectNotUpdatable),
      detail: { summary: 'Update a bot', description: 'workflow_json is validated structurally; with workflow_enabled, a workflow_json of { steps } answers messages through the workflows engine.' },
    })
    .delete('/:id', async ({ principal, params }) => {
      await bots.remove(k, principal, params.id)
      return { deleted: true }
    }, { auth: 'bots.write', params: Id, response: t.Object({ deleted: t.Boolean() }), detail: { summary: 'Delete a bot with its conversations, messages and analytics' } })
    .post('/:id/activate', ({ principal, params, request }) => bots.activate(k, principal, params.id, base(k, request)), {
      auth: 'bots.write', params: Id, response: Activation, detail: { summary: 'Register the webhook with the platform and set status active' },
    })
    .post('/:id/pause', ({ principal, params }) => bots.pause(k, principal, params.id), {
      auth: 'bots.write', params: Id, response: t.Object({ status: t.String(), warnings: t.Optional(t.Array(t.String())) }),
      detail: { summary: 'Unregister the webhook and set status paused' },
    })
    .post('/:id/test', ({ principal, params, body, set, request }) => {
      enforceRate(k.limiter, set, `bots.test:${principal.userId}`, TEST_RPM, `Bot test limit: ${TEST_RPM} requests per 60 s`)
      return testBot(k, principal, params.id, body.message, request.signal)
    }, {
      auth: 'bots.write', params: Id, body: TestBody, response: TestResult,
      detail: { summary: 'Send a test message through the full engine (10 per 60 s per user)', description: 'Creates real conversations and messages; wallet billing charges your wallet.' },
    })
    .get('/:id/conversations', ({ principal, params, query }) => {
      bots.requireBot(k, principal, params.id)
      return listConversations(k, params.id, query.limit ?? 50, query.offset ?? 0)
    }, { auth: 'conversations.read', params: Id, query: ListQuery, response: ConversationList, detail: { summary: 'List a bot\'s conversations' } })
    .get('/:id/conversations/:convId', ({ principal, params, query }) => {
      bots.requireBot(k, principal, params.id)
      return getConversation(k, params.id, params.convId, query.limit ?? 100)
    }, { auth: 'conversations.read', params: ConvParams, query: MessagesQuery, response: ConversationDetail, detail: { summary: 'Get a conversation with its latest messages' } })
    .get('/:id/conversations/:convId/messages', ({ principal, params, query }) => {
      bots.requireBot(k, principal, params.id)
      return getConversation(k, params.id, params.convId, query.limit ?? 100)
    }, { auth: 'conversations.read', params: ConvParams, query: MessagesQuery, response: ConversationDetail, detail: { summary: 'Same as GET /:id/conversations/:convId (the reference\'s example path)' } })
    .get('/:id/analytics', ({ principal, params, query }) => analytics(k, bots.requireBot(k, principal, params.id), query), {
      auth: 'analytics.read', params: Id, query: AnalyticsQuery, response: Analytics,
      detail: { summary: 'Daily analytics, totals, top tools, latency, conversations by status, spending-cap stops' },
    })
    .get('/:id/insights', ({ principal, params }) => {
      bots.requireBot(k, principal, params.id)
      return insights(k, params.id)
    }, { auth: 'analytics.read', params: Id, response: Insights, detail: { summary: 'Unanswered questions (answers without any tool) and resolution rate' } })
