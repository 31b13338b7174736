/**
 * What one attempt of each step type does, given its substituted input. Side effects live only in `tool`
 * (the idempotency key rides along, as an `Idempotency-Key` header for HTTP tools) and `llm` steps.
 */
import type { Kernel } from '../../src/kernel'
import type { RunEvent } from '../../src/agent/types'
import { evaluate, evaluateCondition, substitute } from '../../src/expr/index'
import { workspaceToolSet } from '../../src/tools/workspace-tools'
import { ApiError } from '../../src/http/errors'
import { callModel } from './llm'
import { parseDuration } from './retry'
import { DEFAULT_LOOP_ITEMS, MAX_DELAY_MS, type Step } from './types'

export class StepError extends Error {
  constructor(message: string, readonly output: unknown = null, readonly code = 'step_failed') { super(message) }
}

export interface AttemptContext {
  k: Kernel
  ownerId: string
  workspaceId: string | null
  executionId: string
  workflowId?: string
  idempotencyKey: string
  signal: AbortSignal
  onEvent?: (e: RunEvent) => void
  sleepUntil: (ms: number, signal: AbortSignal) => Promise<void>
}

export type Ctx = Record<string, unknown>
const roots = (ctx: Ctx) => ('each' in ctx ? ['each'] : [])
const sub = (v: unknown, ctx: Ctx) => substitute(v, ctx, { extraRoots: roots(ctx) }).value

/** The journaled input of an attempt: everything substituted, so a resent attempt sends exactly the same. */
export function buildInput(step: Step, ctx: Ctx, now: number): Record<string, unknown> {
  switch (step.type) {
    case 'tool': return { tool: step.tool, parameters: sub(step.parameters ?? {}, ctx) }
    case 'llm': return { prompt: sub(step.prompt, ctx), ...(step.system_prompt ? { system_prompt: sub(step.system_prompt, ctx) } : {}) }
    case 'transform': return step.expression !== undefined ? { expression: step.expression } : { template: step.template }
    case 'condition': return { condition: step.condition ?? step.expression }
    case 'delay': {
      let until: number
      if (step.until !== undefined) until = Date.parse(String(sub(step.until, ctx)))
      else until = now + (step.duration_ms ?? parseDuration(String(step.duration)) ?? 0)
      if (isNaN(until)) throw new StepError(`Delay "until" is not a valid time`)
      return { until: new Date(Math.min(until, now + MAX_DELAY_MS)).toISOString() }
    }
    case 'loop': {
      const items = sub(step.items, ctx)
      if (!Array.isArray(items)) throw new StepError(`Loop items must be a list, got ${items === null ? 'null' : typeof items}`)
      const max = step.max_items ?? DEFAULT_LOOP_ITEMS
      if (items.length > max) throw new StepError(`The loop has ${items.length} items, more than max_items (${max})`)
      return { items }
    }
  }
}

/** Runs one attempt; resolves with the output or throws (StepError / ApiError / ExprError). */
export async function runAttempt(step: Step, input: Record<string, unknown>, ctx: Ctx, a: AttemptContext): Promise<unknown> {
  switch (step.type) {
    case 'tool': {
      const tools = workspaceToolSet(a.k, a.ownerId, a.workspaceId, { actor: 'workflow', timeoutMs: step.timeout_ms })
      const name = String(input.tool)
      const entry = await tools.prepare(name, input.parameters)
      let args = input.parameters as Record<string, unknown>
      const props = (entry.inputSchema as { properties?: Record<string, unknown> }).properties
      if (props && 'headers' in props) args = { ...args, headers: { ...(args.headers as Record<string, string> | undefined), 'Idempotency-Key': a.idempotencyKey } }
      const out = await tools.invoke(name, args, { signal: a.signal, ownerId: a.ownerId, surface: 'workflow', runId: a.executionId })
      const value = out.result.data ?? out.result.content
      if (!out.success) throw new StepError(out.error ?? 'The tool reported an error', value, 'tool_error')
      // An HTTP tool that got an error status fails the step (retry_if can look at output.status).
      const status = (value as { status?: unknown } | null)?.status
      if (props && 'headers' in props && typeof status === 'number' && status >= 400) throw new StepError(`HTTP ${status}`, value, 'http_error')
      return value
    }
    case 'llm': {
      const r = await callModel(a.k, {
        ownerId: a.ownerId, systemPrompt: String(input.system_prompt ?? 'You are a step of an automated workflow. Do exactly what the prompt asks and answer with the result only.'),
        message: String(input.prompt), provider: step.provider, model: step.model, temperature: step.temperature, maxTokens: step.max_tokens,
        outputSchema: step.output_schema ?? null, timeoutMs: step.timeout_ms, signal: a.signal, onEvent: a.onEvent,
        workflowId: a.workflowId, workspaceId: a.workspaceId, meta: { execution_id: a.executionId, idempotency_key: a.idempotencyKey },
      })
      if (!r.ok) throw new StepError(r.error ?? 'The model call failed', null, r.code ?? 'llm_failed')
      return r.output
    }
    case 'transform':
      return step.expression !== undefined ? evaluate(step.expression, ctx) : sub(step.template, ctx)
    case 'condition': {
      const c = step.condition ?? { expression: step.expression }
      return evaluateCondition(typeof c === 'string' ? { expression: c } : c, ctx, roots(ctx))
    }
    case 'delay':
      await a.sleepUntil(Date.parse(String(input.until)), a.signal)
      if (a.signal.aborted) throw new ApiError(499, 'The execution was cancelled', 'cancelled')
      return { waited_until: input.until }
    case 'loop':
      throw new StepError('internal: loops are driven by the engine')
  }
}
