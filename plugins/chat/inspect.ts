import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import type { Principal } from '../../src/auth/principal'
import { compileSchema } from '../../src/agent/ajv'
import { workspaceToolSet } from '../../src/tools/workspace-tools'
import * as workspaces from '../workspaces/service'
import { toolView } from '../mcp/tools-service'
import { messagesStore } from './store'
import { requireConversation, defaultWorkspace } from './service'
import { resolveChoice, settingsChosen } from './providers'
import { classifyIntent, type IntentResult } from './intent'
import { selectTools } from './selection'
import { planTools, toolSetFor } from './turn'
import { executeRun } from './run-adapter'

/** What the orchestrator would do, without doing it: tool ranking, intent, argument validation; and test-direct. */

export async function explainTools(k: Kernel, who: Principal, convId: string, content: string) {
  const conv = requireConversation(k, who, convId)
  const catalog = await toolSetFor(k, who, conv).catalog()
  const rows = messagesStore(k.db).recent(conv.id, 20)
  const { selection, intent, offered } = await planTools(k, catalog, content, rows, messagesStore(k.db).toolNames(conv.id))
  return {
    k: selection.k, total_tools: catalog.length, offered, signals: selection.signals, intent: { intent: intent.intent, needs_tools: intent.needs_tools, confidence: intent.confidence },
    tools: selection.ranked.slice(0, 50).map((r) => ({
      name: r.name, score: r.score, matched_terms: [...new Set(r.matched)], offered: r.offered, reason: r.reason, source: r.source,
      ...(r.semantic !== undefined ? { bm25: r.bm25 ?? 0, semantic: r.semantic } : {}),
    })),
  }
}

const INTENT_PROMPT = 'Classify the user message for an assistant that can call tools (APIs of Slack, GitHub, CRMs, HTTP, time, ...). '
  + 'Answer with JSON only: {"intent": "action" | "data_query" | "conversation", "needs_tools": boolean, "confidence": number 0..1, "reasoning": "one sentence"}.'
const INTENT_SCHEMA = {
  type: 'object', required: ['intent', 'needs_tools', 'confidence', 'reasoning'],
  properties: { intent: { enum: ['action', 'data_query', 'conversation'] }, needs_tools: { type: 'boolean' }, confidence: { type: 'number', minimum: 0, maximum: 1 }, reasoning: { type: 'string' } },
}

/**
 * The model's classification when a model is configured (a provider given, or chosen in settings, or a platform
 * key present); the model-free heuristic otherwise, or when the model call fails.
 */
export async function explainIntent(k: Kernel, who: Principal, convId: string, content: string, provider?: string | null): Promise<IntentResult & { fallback_reason?: string; provider?: string; model?: string }> {
  const conv = requireConversation(k, who, convId)
  const catalog = await toolSetFor(k, who, conv).catalog()
  const rows = messagesStore(k.db).recent(conv.id, 20)
  const heuristic = classifyIntent(content, selectTools(catalog, content, { usedBefore: [] }).ranked)
  const choice = (() => { try { return resolveChoice(k, conv.owner_id, { provider }, { strictKey: true, conversation: conv }) } catch { return null } })()
  // Local Ollama is the fallback default of every server: only used for intent when someone chose it.
  const chosen = !!provider || !!conv.provider || settingsChosen(k, conv.owner_id)
  if (!choice || (choice.provider === 'ollama' && !chosen)) return { ...heuristic, fallback_reason: 'no model is configured' }
  const recent = rows.filter((r) => r.role === 'user').slice(-2).map((r) => `Earlier: ${r.content}`).join('\n')
  const c = await executeRun(k, {
    ownerId: conv.owner_id, workspaceId: conv.workspace_id, sourceId: conv.id, mode: 'test', reason: 'chat intent',
    input: { message: `${recent ? `${recent}\n` : ''}Message: ${content}` },
    spec: {
      systemPrompt: INTENT_PROMPT, provider: choice.provider, model: choice.model, outputFormat: 'json', outputSchema: INTENT_SCHEMA, maxTokens: 200,
      maxIterations: 2, timeoutMs: 15_000, retry: { maxRetries: 0 }, ownerId: conv.owner_id, surface: 'chat',
    },
  })
  if (!c.ok) return { ...heuristic, fallback_reason: `the model call failed: ${c.error}` }
  const o = c.result.output as Omit<IntentResult, 'method'>
  return { intent: o.intent, needs_tools: o.needs_tools, confidence: o.confidence, reasoning: o.reasoning, method: 'llm', provider: choice.provider, model: choice.model }
}

/** Checks `{ name, arguments }` against the tool's schema with ajv; nothing runs. */
export async function validateToolCall(k: Kernel, who: Principal, convId: string, name: string, args: unknown) {
  const conv = requireConversation(k, who, convId)
  const catalog = await toolSetFor(k, who, conv).catalog(true)
  const tool = catalog.find((e) => e.name === name)
  if (!tool) return { valid: false, tool: null, errors: [{ path: 'name', message: `unknown tool "${name}"` }] }
  const view = toolView(tool)
  const errors: Array<{ path: string; message: string }> = []
  if (!tool.available) errors.push({ path: 'name', message: `the tool is not available: ${tool.unavailableReason ?? 'it needs configuration'}` })
  const value = args ?? {}
  if (typeof value !== 'object' || Array.isArray(value) || value === null) errors.push({ path: 'arguments', message: 'must be an object' })
  else {
    // Every error at once (the `output` profile), so a client can fix them all in one go.
    const v = compileSchema(tool.inputSchema, 'output')
    if (v && !v(value)) {
      for (const e of v.errors ?? []) {
        const base = e.instancePath ? `arguments${e.instancePath.replace(/\//g, '.')}` : 'arguments'
        const path = e.keyword === 'required' ? `${base}.${(e.params as { missingProperty: string }).missingProperty}`
          : e.keyword === 'additionalProperties' ? `${base}.${(e.params as { additionalProperty: string }).additionalProperty}` : base
        errors.push({ path, message: e.message ?? 'invalid' })
      }
    }
  }
  return { valid: errors.length === 0, tool: view, errors }
}

/** GET /api/chat/tools: what the orchestrator may offer (a workspace's, default the caller's first). */
export async function listTools(k: Kernel, who: Principal, q: { include_all?: boolean; all?: boolean; workspace_id?: string }) {
  const ws = q.workspace_id ? workspaces.requireOwned(k, who, q.workspace_id) : null
  const wsId = ws ? ws.id : defaultWorkspace(k, who)
  const ts = workspaceToolSet(k, ws?.owner_id ?? who.userId, wsId, { actor: who.tokenId ?? who.userId })
  const tools = (await ts.catalog(!!(q.include_all || q.all))).map(toolView)
  return { workspace_id: wsId, count: tools.length, tools }
}

/** One model answer: no tools, no history, nothing saved. */
export async function testDirect(k: Kernel, who: Principal, content: string, provider?: string | null) {
  const choice = resolveChoice(k, who.userId, { provider }, { strictKey: true })
  const started = performance.now()
  const c = await executeRun(k, {
    ownerId: who.userId, workspaceId: null, sourceId: null, mode: 'test', reason: 'chat test-direct', input: { message: content },
    spec: { systemPrompt: 'You are a helpful assistant.', provider: choice.provider, model: choice.model, maxIterations: 1, timeoutMs: 30_000, ownerId: who.userId, surface: 'chat' },
  })
  if (!c.ok) throw new ApiError(c.status, c.error, c.code)
  const u = c.result.usage
  return {
    content: c.result.text, provider: choice.provider, model: choice.model, tokens_used: u.tokens_input + u.tokens_output,
    tokens_input: u.tokens_input, tokens_output: u.tokens_output, cost_cents: u.cost_cents, latency_ms: Math.round(performance.now() - started), run_id: c.runId, saved: false,
  }
}
