import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { clientIp } from '../../src/http/client-ip'
import { setBodyLimit } from '../../src/http/body'
import { ApiError } from '../../src/http/errors'
import { agentFor, enforceAgentRate, resolveCaller, usableAgents } from './access'
import { completion, completionId, parseCompletionRequest, toolActivityOf, usageOf } from './service'
import { completionStream } from './stream'
import { openAiErrorResponse } from './errors'
import { executeAgentRun, startAgentRun } from './runner'
import { CONVERSATION_HEADER, openConversation } from './conversation'

/**
 * OpenAI-compatible routes over agent endpoints (issue 15 §2): `GET /v1/models`, `POST /v1/chat/completions`.
 * A model is an agent endpoint (its id or slug); the call runs that agent with its own prompt, model and tools.
 * Stateless: the messages sent are the whole conversation. Errors use OpenAI's shape on these routes.
 */

setBodyLimit('POST', '/v1/chat/completions', 2 * 1024 * 1024)

const ModelObject = t.Object({ id: t.String(), object: t.Literal('model'), created: t.Number(), owned_by: t.String() })
const Completion = t.Object({
  id: t.String(), object: t.Literal('chat.completion'), created: t.Number(), model: t.String(), system_fingerprint: t.Null(),
  choices: t.Array(t.Object({
    index: t.Integer(), logprobs: t.Null(), finish_reason: t.String(),
    message: t.Object({ role: t.Literal('assistant'), content: t.String(), refusal: t.Null(), reasoning_content: t.Optional(t.String({ description: 'Tool activity of the run' })) }),
  })),
  usage: t.Object({ prompt_tokens: t.Integer(), completion_tokens: t.Integer(), total_tokens: t.Integer() }),
}, { description: 'With stream: true, text/event-stream of chat.completion.chunk objects ending with data: [DONE]' })

const headersOf = (set: { headers: Record<string, any> }) =>
  Object.fromEntries(Object.entries(set.headers).filter(([key]) => /^x-ratelimit-|^x-request-id$/i.test(key)).map(([key, v]) => [key, String(v)]))

export const openaiPlugin = (k: Kernel) =>
  new Elysia({ name: 'openai', seed: k.seed, detail: { tags: ['OpenAI-compatible'] } })
    // Errors raised before the handlers (invalid JSON, body too large, wrong content type) come out of the global
    // error handler as `{ error, code }`: reshape them so these routes only ever answer OpenAI's error shape.
    .mapResponse({ as: 'local' }, ({ responseValue, set }) => {
      const v = responseValue as { error?: unknown; code?: unknown } | null
      if (!v || typeof v !== 'object' || v instanceof Response || typeof v.error !== 'string') return
      const status = typeof set.status === 'number' ? set.status : 500
      return openAiErrorResponse(new ApiError(status, v.error, typeof v.code === 'string' ? v.code : undefined), headersOf(set))
    })
    .get('/v1/models', async ({ request, set }) => {
      try {
        const caller = await resolveCaller(k, request, set)
        const data = usableAgents(k, caller).map((ep) => ({ id: ep.slug, object: 'model' as const, created: Math.floor(Date.parse(ep.created_at) / 1000), owned_by: ep.owner_id }))
        return { object: 'list' as const, data }
      } catch (err) {
        return openAiErrorResponse(err, headersOf(set)) as never // a Response passes through unvalidated
      }
    }, {
      response: t.Object({ object: t.Literal('list'), data: t.Array(ModelObject) }),
      detail: {
        summary: 'OpenAI-compatible: the agents (active agent endpoints) this key may use; a model id is the agent\'s slug (its id works too)',
        security: [{ bearer: [] }],
      },
    })
    .post('/v1/chat/completions', async ({ request, body, set, server }) => {
      try {
        const caller = await resolveCaller(k, request, set)
        const req = parseCompletionRequest(body)
        const ep = agentFor(k, caller, req.model)
        enforceAgentRate(k, set, ep)
        const ip = clientIp(request, server, k.config.trustProxy)
        const convId = request.headers.get(CONVERSATION_HEADER)
        const conv = convId ? await openConversation(k, caller, convId, req.input.message) : null
        const ask = {
          input: conv ? { message: req.input.message, history: conv.history } : req.input,
          systemExtra: [req.systemExtra, conv?.system].filter(Boolean).join('\n\n'),
          mode: req.stream ? 'stream' as const : 'sync' as const, callerIp: ip, signal: request.signal, source: 'openai' as const,
          caller: caller.kind === 'key' ? 'endpoint_key' : caller.principal.tokenId ?? 'session',
          onFinish: conv?.onFinish,
        }
        const created = Math.floor(k.clock.now() / 1000)
        const base = { ...headersOf(set), ...(conv ? { [CONVERSATION_HEADER]: conv.id } : {}) }
        try {
          if (req.stream) {
            const started = await startAgentRun(k, ep, ask)
            const headers = { ...base, 'x-agentbase-run-id': started.runId }
            return completionStream(started.events, { id: completionId(started.runId), created, model: req.model, includeUsage: req.includeUsage }, headers)
          }
          // JSON: run to the end in one go (one write for the whole run); tool activity rebuilt from its messages.
          const out = await executeAgentRun(k, ep, ask)
          const headers = { ...base, 'x-agentbase-run-id': out.run.id }
          if (!out.ok) return openAiErrorResponse(new ApiError(out.error!.status, out.error!.message, out.error!.code), headers)
          const o = out.result.output
          const body = completion(completionId(out.run.id), created, req.model, typeof o === 'string' ? o : JSON.stringify(o), toolActivityOf(out.result), usageOf(out.result.usage))
          return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json', ...headers } })
        } catch (err) {
          conv?.release()
          throw err
        } finally {
          if (!req.stream) conv?.release() // a stream's turn ends when its run commits (onFinish)
        }
      } catch (err) {
        return openAiErrorResponse(err, headersOf(set))
      }
    }, {
      response: { 200: Completion },
      detail: {
        summary: 'OpenAI-compatible chat completions: runs the agent named by `model` on `messages` (JSON or `stream: true` SSE chunks ending with [DONE])',
        description: 'Auth: an API token with endpoints.run, or the agent endpoint\'s own aek_ key. The agent keeps its prompt, model and tools; '
          + 'system messages are added to its prompt. `X-Agentbase-Conversation: <chat conversation id>` continues a stored conversation '
          + '(its history replaces the earlier messages sent; 409 with Retry-After while a turn runs in it); without it the call is stateless. Tool activity is reported in `reasoning_content`. Errors in OpenAI\'s shape `{ error: { message, type, param, code } }`.',
        security: [{ bearer: [] }],
      },
    })
