import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import { badRequest } from '../../src/http/errors'
import { setBodyLimit } from '../../src/http/body'
import { publicBase } from '../../src/http/client-ip'
import { sseResponse } from '../../src/http/sse'
import { evaluateCondition, ExprError, substitute } from '../../src/expr/index'
import * as wf from './service'
import { generate } from './generate'
import { follow } from './events'
import { engine } from './engine'
import { receiveHook } from './triggers'
import { chatAgent, extract, toolCalls } from './conversation'
import { workflowTemplates } from '../templates/service'
import {
  ChatAgent, ConditionResult, Deleted, Execution, ExecutionList, Queued, Sse, SubstitutionResult, ToolCallStep, Version, Workflow, WorkflowList,
  ConversationParams, ExecuteBody, ExecutionParams, ExtractBody, FromStepsBody, GenerateBody, ListQuery, TestConditionBody, TestSubstitutionBody, UpdateBody, WorkflowParams } from './model'

export const HOOK_BODY_LIMIT = 256 * 1024
setBodyLimit('POST', '/api/workflows/hooks/:id', HOOK_BODY_LIMIT)

const base = (k: Kernel, request: Request) => publicBase(request, k.config.publicUrl, k.config.trustProxy)

/** Test routes take a context of roots; missing roots are empty. Expression errors are 400s naming the problem. */
const rootsOf = (c: Record<string, unknown>) => ({ input: {}, steps: {}, vars: {}, trigger: {}, ...c })
const expr400 = <T>(f: () => T): T => {
  try { return f() } catch (err) {
    if (err instanceof ExprError) throw badRequest(err.message, { [err.path ? 'context' : 'condition']: err.message })
    throw err
  }
}

function lastEventId(request: Request): number {
  const given = request.headers.get('last-event-id')
  if (!given) return 0
  if (!/^\d{1,9}$/.test(given)) throw badRequest('Last-Event-ID must be a non-negative integer', { 'last-event-id': 'must be a non-negative integer' })
  return Number(given)
}

export const workflowsPlugin = (k: Kernel) =>
  new Elysia({ name: 'workflows', seed: k.seed, prefix: '/api/workflows', detail: { tags: ['Workflows'] } })
    .use(authGuard(k))
    .post('', async ({ principal, body, request, set }) => {
      const created = await generate(k, principal, body, base(k, request))
      set.status = 201
      return created
    }, { auth: 'workflows.write', body: GenerateBody, response: { 201: Workflow }, detail: { summary: 'Generate a workflow from a description (saved as a draft)' } })
    .get('', ({ principal, request }) => wf.list(k, principal, base(k, request)), { auth: 'workflows.read', response: WorkflowList, detail: { summary: 'List your workflows' } })
    .post('/from-steps', async ({ principal, body, request, set }) => {
      const created = await wf.create(k, principal, body, { base: base(k, request) })
      set.status = 201
      return created
    }, { auth: 'workflows.write', body: FromStepsBody, response: { 201: Workflow }, detail: { summary: 'Save a workflow from explicit steps' } })
    .post('/chat-agent', async ({ principal, body, request, set }) => {
      const r = await chatAgent(k, principal, body, base(k, request))
      set.status = 201
      return r
    }, { auth: 'workflows.write', body: GenerateBody, response: { 201: ChatAgent }, detail: { summary: 'Generate a workflow and a chat conversation that offers it as a tool' } })
    .post('/extract-from-conversation', async ({ principal, body, request, set }) => {
      const created = await extract(k, principal, body, base(k, request))
      set.status = 201
      return created
    }, { auth: 'workflows.write', body: ExtractBody, response: { 201: Workflow }, detail: { summary: "A workflow from a conversation's recorded tool calls (deterministic)" } })
    .get('/conversations/:conversation_id/tool-calls', ({ principal, params }) => toolCalls(k, principal, params.conversation_id), {
      auth: 'workflows.read', params: ConversationParams, response: t.Array(ToolCallStep), detail: { summary: "Preview a conversation's tool calls as workflow steps" },
    })
    .get('/templates', () => workflowTemplates(), { response: t.Array(t.Record(t.String(), t.Any())), detail: { summary: 'Workflow templates (the same catalog as /api/templates)' } })
    .post('/test-condition', ({ body }) => expr400(() => evaluateCondition(body.condition, rootsOf(body.context))), {
      auth: 'workflows.write', body: TestConditionBody, response: ConditionResult, detail: { summary: 'Evaluate a condition against a context' },
    })
    .post('/test-substitution', ({ body }) => expr400(() => {
      const r = substitute(body.parameters, rootsOf(body.context))
      return { original_parameters: body.parameters, substituted_parameters: r.value, substitutions_made: r.substitutions }
    }), { auth: 'workflows.write', body: TestSubstitutionBody, response: SubstitutionResult, detail: { summary: 'Substitute {{ path }} placeholders against a context' } })
    .get('/executions', ({ principal, query }) => wf.listExecutions(k, principal, null, query.limit), {
      auth: 'workflows.read', query: ListQuery, response: ExecutionList, detail: { summary: 'All of your workflow executions, newest first' },
    })
    .get('/executions/:execution_id', ({ principal, params }) => wf.executionView(k, wf.requireExecution(k, principal, params.execution_id), true), {
      auth: 'workflows.read', params: ExecutionParams, response: Execution, detail: { summary: 'An execution with every step attempt' },
    })
    .get('/executions/:execution_id/events', ({ principal, params, request }) => {
      const r = wf.requireExecution(k, principal, params.execution_id)
      const after = lastEventId(request)
      return sseResponse(k, follow(k, r.id, after, request.signal, () => wf.isUnfinished(k, r.id)), { signal: request.signal, firstId: after + 1 })
    }, { auth: 'workflows.read', params: ExecutionParams, response: Sse, detail: { summary: 'The execution events as SSE (resumable with Last-Event-ID)' } })
    .post('/executions/:execution_id/cancel', ({ principal, params }) => wf.cancelExecution(k, principal, params.execution_id), {
      auth: 'workflows.run', params: ExecutionParams, response: Execution, detail: { 'x-errors': [409], summary: 'Cancel an execution; its running step is stopped' },
    })
    .post('/hooks/:id', ({ params, request, body, set }) => {
      const r = receiveHook(k, params.id, request, body)
      set.status = 202
      return r
    }, {
      params: WorkflowParams, response: { 202: Queued }, detail: { 'x-errors': [409], summary: 'Webhook trigger (secret in X-Workflow-Secret)', security: [{}] },
      // Senders are other systems: JSON, forms and plain text all start the workflow (text arrives as { body }).
      type: ['application/json', 'application/x-www-form-urlencoded', 'text/plain'] as ('application/json' | 'application/x-www-form-urlencoded' | 'text/plain')[],
    })
    .get('/:id', ({ principal, params, request }) => wf.view(wf.requireWorkflow(k, principal, params.id), { base: base(k, request) }), {
      auth: 'workflows.read', params: WorkflowParams, response: Workflow, detail: { summary: 'Get a workflow' },
    })
    .put('/:id', ({ principal, params, body, request }) => wf.update(k, principal, params.id, body, base(k, request)), {
      auth: 'workflows.write', params: WorkflowParams, body: UpdateBody, response: Workflow, detail: { summary: 'Update a workflow (steps, trigger or variables make a new version)' },
    })
    .patch('/:id', ({ principal, params, body, request }) => wf.update(k, principal, params.id, body, base(k, request)), {
      auth: 'workflows.write', params: WorkflowParams, body: UpdateBody, response: Workflow, detail: { summary: 'Update a workflow (every field optional)' },
    })
    .delete('/:id', ({ principal, params }) => {
      wf.remove(k, principal, params.id)
      return { deleted: true }
    }, { auth: 'workflows.write', params: WorkflowParams, response: Deleted, detail: { summary: 'Delete a workflow and its executions' } })
    .get('/:id/versions', ({ principal, params }) => wf.versions(k, principal, params.id), {
      auth: 'workflows.read', params: WorkflowParams, response: t.Array(Version), detail: { summary: 'Every version of a workflow, newest first' },
    })
    .post('/:id/webhook-secret', ({ principal, params, request }) => wf.rotateSecret(k, principal, params.id, base(k, request)), {
      auth: 'workflows.write', params: WorkflowParams, response: Workflow, detail: { summary: 'Mint a new webhook secret (shown once)' },
    })
    .get('/:id/executions', ({ principal, params, query }) => wf.listExecutions(k, principal, params.id, query.limit), {
      auth: 'workflows.read', params: WorkflowParams, query: ListQuery, response: ExecutionList, detail: { summary: 'Executions of one workflow' },
    })
    .post('/:id/execute', async ({ principal, params, body, request, set }) => {
      const w = wf.requireWorkflow(k, principal, params.id)
      const mode = body.mode ?? 'sync'
      if (mode === 'stream') {
        const ex = wf.createExecution(k, { workflowId: w.id, ownerId: w.owner_id, input: body.input_data, source: 'manual', mode })
        engine(k).enqueue(ex.id)
        // A synchronous stream: the client going away cancels the execution (DESIGN §6).
        // The SSE Response passes through as is (response schemas describe the JSON answers).
        return sseResponse(k, follow(k, ex.id, 0, request.signal, () => wf.isUnfinished(k, ex.id)), {
          signal: request.signal, onClose: () => { if (wf.isUnfinished(k, ex.id)) engine(k).cancel(ex.id) },
        }) as unknown as typeof Execution.static
      }
      const ex = await wf.executeWorkflow(k, { workflowId: w.id, ownerId: w.owner_id, input: body.input_data, source: 'manual', mode })
      if (mode === 'async') set.status = 202
      return mode === 'async' ? { execution_id: ex.id, status: ex.status, status_url: ex.status_url, events_url: ex.events_url } : ex
    }, { auth: 'workflows.run', params: WorkflowParams, body: ExecuteBody, response: { 200: Execution, 202: Queued }, detail: { 'x-errors': [409], summary: 'Execute a workflow: sync, async (202) or stream (SSE)' } })
