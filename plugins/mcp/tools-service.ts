import type { Kernel } from '../../src/kernel'
import { ApiError } from '../../src/http/errors'
import { listScope, type Principal } from '../../src/auth/principal'
import { newId } from '../../src/db/ids'
import { listToolCalls } from '../../src/tools/audit'
import { workspaceToolSet, type CatalogEntry, type WorkspaceToolSet } from '../../src/tools/workspace-tools'
import * as workspaces from '../workspaces/service'
import type { CallBodyInput } from './model'

/**
 * The tool set a caller reaches: built-ins and their connections, plus a workspace's MCP servers when
 * one is named (a workspace token's own workspace by default). Another user's workspace is a 404.
 */
export function toolSetFor(k: Kernel, who: Principal, workspaceId?: string | null, timeoutMs?: number): WorkspaceToolSet {
  const wsId = workspaceId || who.workspaceId
  const actor = who.botAccountId ?? who.tokenId ?? who.userId
  if (!wsId) return workspaceToolSet(k, who.userId, null, { actor, timeoutMs })
  const ws = workspaces.requireOwned(k, who, wsId)
  return workspaceToolSet(k, ws.owner_id, ws.id, { actor, timeoutMs })
}

export const toolView = (e: CatalogEntry) => ({
  name: e.name,
  description: e.description,
  input_schema: e.inputSchema,
  kind: e.kind,
  source: e.source,
  source_name: e.sourceName ?? null,
  platform: e.platform ?? null,
  available: e.available,
  requires_configuration: !e.available,
  reason: e.available ? null : e.unavailableReason ?? null,
})

export async function listTools(k: Kernel, who: Principal, q: { include_all?: boolean; all?: boolean; workspace_id?: string }) {
  const ts = toolSetFor(k, who, q.workspace_id)
  return (await ts.catalog(!!(q.include_all || q.all))).map(toolView)
}

export async function call(k: Kernel, who: Principal, body: CallBodyInput, signal?: AbortSignal) {
  const ts = toolSetFor(k, who, body.workspace_id, body.timeout_ms)
  const out = await ts.invoke(body.name, body.arguments ?? {}, { signal: signal ?? new AbortController().signal, ownerId: ts.ownerId, surface: 'api' })
  return {
    call_id: out.call_id, tool: out.tool, success: out.success, latency_ms: out.latency_ms, error: out.error,
    result: { content: out.result.content, is_error: !!out.result.isError, ...(out.result.data !== undefined ? { data: out.result.data } : {}) },
  }
}

export async function validate(k: Kernel, who: Principal, body: CallBodyInput) {
  const ts = toolSetFor(k, who, body.workspace_id)
  try {
    const tool = await ts.prepare(body.name, body.arguments ?? {})
    return { valid: true, tool: toolView(tool) }
  } catch (err) {
    if (!(err instanceof ApiError) || !['invalid_arguments', 'unknown_tool', 'tool_unavailable'].includes(err.code)) throw err
    return { valid: false, tool: null, error: err.message, code: err.code, ...(err.details ? { details: err.details } : {}) }
  }
}

type StreamEvent = { type: string; [key: string]: unknown }

/**
 * The same call as an event stream (DESIGN §6): run.started, tool.started, tool.progress (MCP progress
 * notifications), tool.completed, then run.completed, or run.failed when the call could not finish.
 * Validation happens before the stream starts, so bad input is a plain 400/404.
 */
export async function callStream(k: Kernel, who: Principal, body: CallBodyInput, signal: AbortSignal): Promise<AsyncIterable<StreamEvent>> {
  const ts = toolSetFor(k, who, body.workspace_id, body.timeout_ms)
  const args = body.arguments ?? {}
  await ts.prepare(body.name, args)
  const callId = newId('tcall')
  return (async function* events(): AsyncGenerator<StreamEvent> {
    const base = { run_id: callId, call_id: callId, tool: body.name }
    yield { type: 'run.started', run_id: callId, call_id: callId, tool: body.name, workspace_id: ts.workspaceId }
    yield { type: 'tool.started', ...base, arguments: args }
    const progress: StreamEvent[] = []
    let wake: (() => void) | undefined
    let settled = false
    const t0 = performance.now()
    let outcome: { ok: true; value: Awaited<ReturnType<WorkspaceToolSet['invoke']>> } | { ok: false; error: ApiError } | undefined
    ts.invoke(body.name, args, {
      signal, ownerId: ts.ownerId, surface: 'api',
      onProgress: (p) => { progress.push({ type: 'tool.progress', ...base, progress: p.progress, ...(p.total !== undefined ? { total: p.total } : {}), ...(p.message ? { message: p.message } : {}) }); wake?.() },
    }, callId).then(
      (value) => { outcome = { ok: true, value } },
      (err) => { outcome = { ok: false, error: err instanceof ApiError ? err : new ApiError(502, String((err as Error)?.message ?? err), 'tool_failed') } },
    ).finally(() => { settled = true; wake?.() })
    for (;;) {
      if (progress.length) { yield progress.shift()!; continue }
      if (settled) break
      await new Promise<void>((resolve) => { wake = resolve })
      wake = undefined
    }
    const done = outcome!
    if (done.ok) {
      const out = done.value
      yield { type: 'tool.completed', ...base, success: out.success, latency_ms: out.latency_ms, result: out.result.content, ...(out.error ? { error: out.error } : {}) }
      yield {
        type: 'run.completed', run_id: callId,
        result: { call_id: callId, tool: body.name, success: out.success, latency_ms: out.latency_ms, error: out.error, content: out.result.content, is_error: !!out.result.isError, ...(out.result.data !== undefined ? { data: out.result.data } : {}) },
      }
    } else {
      const e = done.error
      yield { type: 'tool.completed', ...base, success: false, latency_ms: Math.round((performance.now() - t0) * 10) / 10, error: e.message }
      yield { type: 'run.failed', run_id: callId, error: e.message, code: e.code, status: e.status }
    }
  })()
}

export function calls(k: Kernel, who: Principal, q: { limit?: number; tool?: string }) {
  const { ownerId, workspaceId } = listScope(who)
  return listToolCalls(k, { ownerId, workspaceId, tool: q.tool ?? null, limit: q.limit ?? 50 }).map((r) => ({
    id: r.id, tool: r.tool, source: r.source, surface: r.surface, run_id: r.run_id, workspace_id: r.workspace_id, actor: r.actor,
    success: !!r.success, latency_ms: r.latency_ms, error: r.error, arguments: r.arguments, result: r.result, created_at: r.created_at,
  }))
}
