import { Elysia, t } from 'elysia'
import type { Kernel } from '../../src/kernel'
import { authGuard } from '../../src/http/guard'
import * as chat from './service'
import * as inspect from './inspect'
import * as ollama from './ollama'
import { listProviders, putSettings, userDefault } from './providers'
import { sendMessage } from './turn'
import { whatsappDiagnostics } from './whatsapp'
import {
  ContentBody, ConvParams, Conversation, ConversationDetail, ConversationList, CreateConversation, FileParams, MessageList, MessageParams,
  PageQuery, SendMessage, Settings, ToolsQuery, UpdateConversation, ValidateToolCall, FileList, Download, TurnAnswer, ExplainTools, IntentView,
  ValidateResult, TestDirectResult, ToolList, ProviderList, SettingsView, SettingsSaved, OllamaStatus, OllamaDiagnostic,
} from './model'

/** Chat conversations with the orchestrator: /api/chat (hub reference, "chat" section) and the WhatsApp diagnostics. */
export const chatPlugin = (k: Kernel) =>
  new Elysia({ name: 'chat', seed: k.seed })
    .use(conversations(k))
    .use(orchestrator(k))
    .use(whatsappDiagnostics(k))

const Envelope = t.Object({ conversation: Conversation })
const wantsStream = (request: Request, body: { stream?: boolean }) =>
  body.stream === true || (request.headers.get('accept') ?? '').includes('text/event-stream')

const conversations = (k: Kernel) =>
  new Elysia({ name: 'chat.conversations', seed: k.seed, prefix: '/api/chat', detail: { tags: ['Chat'] } })
    .use(authGuard(k))
    .get('/conversations', ({ principal, query }) => chat.list(k, principal, query), {
      auth: 'chat.read', query: PageQuery, response: ConversationList,
      detail: { summary: 'Your conversations, most recently updated first (limit/offset or cursor); metadata only' },
    })
    .post('/conversations', ({ principal, body, set }) => {
      set.status = 201
      return { conversation: chat.conversationView(chat.create(k, principal, body)) }
    }, {
      auth: 'chat.write', body: CreateConversation, response: { 201: Envelope },
      detail: { summary: "Create a conversation (tools come from workspace_id, default your first workspace); without a title the first message names it" },
    })
    .get('/conversations/:id', ({ principal, params }) => chat.detail(k, principal, params.id), {
      auth: 'chat.read', params: ConvParams, response: ConversationDetail, detail: { summary: 'A conversation with its latest messages (bounded; page older ones with /messages)' },
    })
    .put('/conversations/:id', ({ principal, params, body }) => ({ conversation: chat.conversationView(chat.rename(k, principal, params.id, body.title)) }), {
      auth: 'chat.write', params: ConvParams, body: UpdateConversation, response: Envelope, detail: { summary: 'Rename a conversation' },
    })
    .patch('/conversations/:id', ({ principal, params, body }) => ({ conversation: chat.conversationView(chat.rename(k, principal, params.id, body.title)) }), {
      auth: 'chat.write', params: ConvParams, body: UpdateConversation, response: Envelope, detail: { summary: 'Rename a conversation (same as PUT)' },
    })
    .delete('/conversations/:id', ({ principal, params }) => {
      chat.remove(k, principal, params.id)
      return { deleted: true }
    }, { auth: 'chat.write', params: ConvParams, response: t.Object({ deleted: t.Boolean() }), detail: { summary: 'Delete a conversation with its messages and files' } })
    .get('/conversations/:id/messages', ({ principal, params, query }) => chat.messages(k, principal, params.id, query), {
      auth: 'chat.read', params: ConvParams, query: PageQuery, response: MessageList,
      detail: { summary: 'Chronological history: user, assistant, tool (raw results with their tool_call_id) and system messages; paginated' },
    })
    .get('/conversations/:id/messages/:message_id/files', ({ principal, params }) => chat.files(k, principal, params.id, params.message_id), {
      auth: 'chat.read', params: MessageParams, response: FileList, detail: { summary: "A message's files: name, size, content type, sha256" },
    })
    .get('/conversations/:id/messages/:message_id/files/:filename', ({ principal, params }) => chat.download(k, principal, params.id, params.message_id, params.filename), {
      auth: 'chat.read', params: FileParams, response: Download, detail: { summary: 'Download a file (Content-Disposition: attachment, nosniff)' },
    })

const orchestrator = (k: Kernel) =>
  new Elysia({ name: 'chat.orchestrator', seed: k.seed, prefix: '/api/chat', detail: { tags: ['Chat'] } })
    .use(authGuard(k))
    // The SSE Response passes through as is (the response schema describes the JSON answer).
    .post('/conversations/:id/messages', async ({ principal, params, body, request }) =>
      (await sendMessage(k, principal, params.id, body, { stream: wantsStream(request, body), signal: request.signal })) as typeof TurnAnswer.static, {
      auth: 'chat.write', params: ConvParams, body: SendMessage, response: TurnAnswer,
      detail: { 'x-errors': [402, 409],
        summary: 'Send a message: the orchestrator turn (intent, tool selection, tool loop). JSON: the saved assistant message; '
          + 'Accept: text/event-stream or "stream": true: SSE ending in run.completed with the message. 409 + Retry-After while a turn runs unless multitask "enqueue"',
      },
    })
    .post('/conversations/:id/explain-tools', ({ principal, params, body }) => inspect.explainTools(k, principal, params.id, body.content), {
      auth: 'chat.read', params: ConvParams, body: ContentBody, response: ExplainTools, detail: { summary: 'The ranked tools the orchestrator would offer for this message (score, matched terms)' },
    })
    .post('/conversations/:id/explain-intent', ({ principal, params, body }) => inspect.explainIntent(k, principal, params.id, body.content, body.provider), {
      auth: 'chat.read', params: ConvParams, body: ContentBody, response: IntentView, detail: { summary: 'Intent classification of a message: { intent, needs_tools, confidence, reasoning }' },
    })
    .post('/conversations/:id/validate-tool-call', ({ principal, params, body }) => inspect.validateToolCall(k, principal, params.id, body.name, body.arguments), {
      auth: 'chat.read', params: ConvParams, body: ValidateToolCall, response: ValidateResult, detail: { summary: "Check a tool call against the tool's schema; nothing runs" },
    })
    .post('/test-direct', ({ principal, body }) => inspect.testDirect(k, principal, body.content, body.provider), {
      auth: 'chat.write', body: ContentBody, response: TestDirectResult, detail: { summary: 'One model answer without tools or history; not saved' },
    })
    .get('/tools', ({ principal, query }) => inspect.listTools(k, principal, query), {
      auth: 'chat.read', query: ToolsQuery, response: ToolList, detail: { summary: 'The tools the orchestrator may use for you (include_all/all: also those needing a connection, marked)' },
    })
    .get('/providers', ({ principal }) => listProviders(k, principal.userId), {
      auth: 'chat.read', response: ProviderList, detail: { summary: 'LLM providers: configured, base URL, default and priced models, reachable; and your default' },
    })
    .get('/settings', ({ principal }) => ({ default: userDefault(k, principal.userId) }), {
      auth: 'chat.read', response: SettingsView, detail: { summary: 'Your default provider and model' },
    })
    .put('/settings', ({ principal, body }) => putSettings(k, principal.userId, body), {
      auth: 'chat.write', body: Settings, response: SettingsSaved, detail: { summary: 'Set your default provider and model (null provider: back to the server default)' },
    })
    .get('/ollama/status', () => ollama.status(k), { auth: 'chat.read', response: OllamaStatus, detail: { summary: 'Is OLLAMA_HOST reachable: version and models, or the error and the fix' } })
    .get('/ollama/diagnostic', () => ollama.diagnostic(k), { auth: 'chat.read', response: OllamaDiagnostic, detail: { summary: 'Every Ollama check in order, with the fix in words' } })
