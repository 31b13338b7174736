import type { Kernel } from '../kernel'
import { ApiError } from '../http/errors'
import { newId, randomString } from '../db/ids'
import { callLlm, resolveLlm, type LlmToolCall, type LlmTurn, type ResolvedLlm } from '../llm/index'
import { abortReason } from '../llm/http'
import { TextDeltaEvent } from '../http/sse'
import { costMicro } from '../llm/pricing'
import { parseJsonAnswer, validate } from './schema'
import { runTools } from './tool-calls'
import type { AgentSpec, ChatMessage, RunEvent, RunResult, ToolDefinition } from './types'
import type { Logger } from '../log'

/**
 * The agent runtime (DESIGN §2, §6): model turn -> tool calls of the turn run concurrently -> results fed back,
 * until a final answer or a budget runs out. Yields typed events; `collect` turns them into a RunResult.
 */

export interface RunOptions {
  /** Abort when the caller goes away: the upstream LLM request and running tools are cancelled. */
  signal?: AbortSignal
  runId?: string
  /** Extra fields for `run.started` (conversation_id, endpoint_id...). */
  started?: Record<string, unknown>
  /** Stream model turns (text.delta per token). Default true; JSON-only callers may pass false. */
  stream?: boolean
  /** The caller's logger (a request's carries its request_id); default the kernel's. */
  log?: Logger
}

export type RunInput = { message: string; history?: ChatMessage[] }

export type Collected =
  | { ok: true; result: RunResult }
  | { ok: false; result: RunResult; error: string; code: string; status: number }

export const HARD_TIMEOUT_MS = 60_000
export const DEFAULTS = { timeoutMs: 30_000, maxIterations: 10, maxToolCalls: 10 }

export const estimateTokens = (chars: number) => Math.ceil(chars / 4)

export function emptyResult(): RunResult {
  return {
    output: '', text: '', tool_calls: [], messages: [], stop_reason: null,
    usage: { tokens_input: 0, tokens_output: 0, cost_cents: 0, cost_micro: 0, cost_known: true, latency_ms: 0, iterations: 0 },
    token_breakdown: { systemPrompt: 0, total: 0, estimated: true },
  }
}

/** Validates the spec and resolves key and base URL (outbound guard included) without running anything. */
export async function preflight(k: Kernel, spec: AgentSpec): Promise<void> {
  await resolveLlm(k, spec)
}

export function systemPromptFor(spec: AgentSpec): string {
  const base = spec.systemPrompt ?? ''
  if (spec.outputFormat !== 'json') return base
  const schema = spec.outputSchema ? `\nIt must match this JSON Schema:\n${JSON.stringify(spec.outputSchema)}` : ''
  return `${base}${base ? '\n\n' : ''}Answer with a single JSON value only, no prose and no code fences.${schema}`
}

/**
 * Runs an agent. Never throws synchronously; configuration errors (missing key, custom provider without a base
 * URL, refused base URL) reject the first `next()` before any event. After `run.started`, every failure travels
 * as a final `run.failed`. Calling `return()` on the iterator (e.g. the SSE client went away) cancels the run.
 */
export function run(k: Kernel, spec: AgentSpec, input: RunInput, opts: RunOptions = {}): AsyncIterable<RunEvent> {
  return new RunStream(k, spec, input, opts)
}

/**
 * The loop pushes events through `emit`; iterating pulls them from a queue. collect() on a fresh RunStream skips
 * the queue and keeps only the final event (the JSON fast path).
 */
class RunStream implements AsyncIterable<RunEvent> {
  private started = false
  constructor(private k: Kernel, private spec: AgentSpec, private input: RunInput, private opts: RunOptions) {}

  private start(emit: (e: RunEvent) => void) {
    if (this.started) throw new Error('A run can be iterated only once')
    this.started = true
    const ac = new AbortController()
    const state = { terminal: false }
    return { ac, state, done: execute(this.k, this.spec, this.input, this.opts, ac, state, emit) }
  }

  /** Runs to the end, keeping only the terminal event. Rejects like next() would for configuration errors. */
  async final(): Promise<RunEvent | null> {
    let last: RunEvent | null = null
    const { done } = this.start((e) => { if (e.type === 'run.completed' || e.type === 'run.failed') last = e })
    await done
    return last
  }

  [Symbol.asyncIterator](): AsyncIterator<RunEvent> {
    const queue: RunEvent[] = []
    let waiter: { resolve: (r: IteratorResult<RunEvent>) => void; reject: (e: unknown) => void } | null = null
    let finished = false
    let failure: unknown = null
    let closed = false
    const { ac, state, done } = this.start((e) => {
      if (closed) return
      if (waiter) { const w = waiter; waiter = null; w.resolve({ value: e, done: false }) }
      else queue.push(e)
    })
    done.then(() => { finished = true }, (err) => { finished = true; failure = err ?? new Error('run failed') }).then(() => {
      if (!waiter) return
      const w = waiter
      waiter = null
      if (failure && !closed) w.reject(failure)
      else w.resolve({ value: undefined, done: true })
    })
    return {
      next: () => {
        if (queue.length) return Promise.resolve({ value: queue.shift()!, done: false })
        if (closed || finished) {
          if (failure && !closed) { const f = failure; failure = null; closed = true; return Promise.reject(f) }
          return Promise.resolve({ value: undefined, done: true })
        }
        return new Promise((resolve, reject) => { waiter = { resolve, reject } })
      },
      return: async () => {
        // After the final event nothing is left to cancel (and collect() returns right there).
        if (!state.terminal && !ac.signal.aborted) ac.abort(new ApiError(499, 'The run was cancelled', 'cancelled'))
        closed = true
        queue.length = 0
        if (waiter) { const w = waiter; waiter = null; w.resolve({ value: undefined, done: true }) }
        return { value: undefined, done: true }
      },
    }
  }
}

async function execute(
  k: Kernel, spec: AgentSpec, input: RunInput, opts: RunOptions, ac: AbortController, state: { terminal: boolean }, emit: (e: RunEvent) => void,
): Promise<void> {
  const t0 = performance.now()
  const runId = opts.runId ?? newId('run')
  const llm: ResolvedLlm = await resolveLlm(k, spec)
  const budget = Math.min(Math.max(1, spec.timeoutMs ?? DEFAULTS.timeoutMs), HARD_TIMEOUT_MS)
  const deadline = t0 + budget
  const maxIterations = Math.max(1, spec.maxIterations ?? DEFAULTS.maxIterations)
  const maxToolCalls = Math.max(0, spec.maxToolCalls ?? DEFAULTS.maxToolCalls)
  const signal = ac.signal
  const timer = setTimeout(() => ac.abort(new ApiError(504, `The run exceeded its time budget of ${budget} ms`, 'run_timeout')), budget)
  // A caller that aborts with an ApiError (shutdown, endpoint deleted) keeps its reason; anything else is a cancel.
  const onCallerAbort = () => ac.abort(opts.signal?.reason instanceof ApiError ? opts.signal.reason : new ApiError(499, 'The run was cancelled by the caller', 'cancelled'))
  if (opts.signal?.aborted) onCallerAbort()
  else opts.signal?.addEventListener('abort', onCallerAbort, { once: true })
  let abortedP: Promise<never> | null = null
  /** Rejects when the run is aborted; created only when something (tools) needs to race it. */
  const aborted = () => {
    if (!abortedP) {
      abortedP = new Promise<never>((_, reject) => {
        if (signal.aborted) reject(abortReason(signal))
        else signal.addEventListener('abort', () => reject(abortReason(signal)), { once: true })
      })
      abortedP.catch(() => {})
    }
    return abortedP
  }

  const system = systemPromptFor(spec)
  const convo: ChatMessage[] = [...(input.history ?? []), { role: 'user', content: input.message }]
  const result = emptyResult()
  const usage = result.usage
  let estimatedTotal = 0
  let allUsageReported = true
  let priceKnown = true
  let toolCallsUsed = 0
  let repaired = false

  const finish = (): RunResult => {
    usage.latency_ms = Math.round(performance.now() - t0)
    usage.cost_known = priceKnown && allUsageReported
    usage.cost_cents = usage.cost_micro / 1_000_000
    const sysTokens = estimateTokens(system.length)
    result.token_breakdown = {
      systemPrompt: sysTokens,
      total: allUsageReported ? usage.tokens_input + usage.tokens_output : estimatedTotal,
      estimated: true,
    }
    return result
  }

  try {
    emit({ ...opts.started, type: 'run.started', run_id: runId })
    // With max_tool_calls 0 the model is not offered tools at all.
    const defs: ToolDefinition[] = spec.tools && maxToolCalls > 0 ? await Promise.race([spec.tools.list(), aborted()]) : []
    const byName = new Map(defs.map((d) => [d.name, d]))

    for (let iteration = 1; ; iteration++) {
      if (iteration > maxIterations) {
        throw new ApiError(422, `The agent did not finish within ${maxIterations} model turns (max_loop_iterations)`, 'iteration_budget_exhausted')
      }
      usage.iterations = iteration
      const turn: LlmTurn = await callLlm(llm, {
        model: spec.model, system, messages: convo, tools: defs, maxTokens: spec.maxTokens, temperature: spec.temperature,
        stream: opts.stream !== false, signal, deadline, retry: spec.retry ?? undefined,
      }, (text) => emit(new TextDeltaEvent(runId, text)))
      result.stop_reason = turn.stopReason
      if (turn.usage) {
        usage.tokens_input += turn.usage.input
        usage.tokens_output += turn.usage.output
        estimatedTotal += turn.usage.input + turn.usage.output
        const cost = costMicro(spec.provider, spec.model, turn.usage.input, turn.usage.output)
        usage.cost_micro += cost.micro
        priceKnown &&= cost.known
      } else {
        allUsageReported = false
        const promptChars = system.length + convo.reduce((n, m) => n + m.content.length + (m.role === 'assistant' && m.toolCalls ? JSON.stringify(m.toolCalls).length : 0), 0)
        const outChars = turn.text.length + turn.toolCalls.reduce((n, c) => n + c.name.length + JSON.stringify(c.arguments).length, 0)
        estimatedTotal += estimateTokens(promptChars) + estimateTokens(outChars)
      }
      emit({ type: 'usage', run_id: runId, tokens_input: usage.tokens_input, tokens_output: usage.tokens_output, cost_cents: usage.cost_micro / 1_000_000, iteration })

      if (turn.toolCalls.length) {
        const calls: LlmToolCall[] = turn.toolCalls.map((c) => ({ ...c, id: c.id || `call_${randomString(12)}` }))
        if (toolCallsUsed + calls.length > maxToolCalls) {
          throw new ApiError(422, `The agent asked for more than ${maxToolCalls} tool calls (max_tool_calls)`, 'tool_budget_exhausted')
        }
        toolCallsUsed += calls.length
        const assistant: ChatMessage = { role: 'assistant', content: turn.text, toolCalls: calls.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments })) }
        convo.push(assistant)
        result.messages.push(assistant)
        await runTools(spec, runId, calls, byName, signal, aborted, convo, result, emit)
        continue
      }

      // A final answer.
      const text = turn.text
      if (spec.outputFormat === 'json') {
        const parsed = parseJsonAnswer(text)
        const problem = parsed.ok ? (spec.outputSchema ? validate(spec.outputSchema, parsed.value) : null) : parsed.error
        if (problem) {
          if (!repaired && iteration < maxIterations) {
            repaired = true
            convo.push({ role: 'assistant', content: text })
            convo.push({ role: 'user', content: `Your answer was not valid: ${problem}. Reply again with only the corrected JSON value, no prose.` })
            continue
          }
          result.text = text
          result.output = text
          throw new ApiError(502, `The model's answer is not valid JSON output: ${problem}`, 'output_invalid')
        }
        result.output = (parsed as { value: unknown }).value
        result.raw_output = text
      } else result.output = text
      result.text = text
      result.messages.push({ role: 'assistant', content: text })
      state.terminal = true
      emit({ type: 'run.completed', run_id: runId, result: finish() })
      return
    }
  } catch (err) {
    const e = signal.aborted && !(err instanceof ApiError) ? abortReason(signal) : err
    // Clients learn what failed, never raw exception text; the detail goes to the log with the run id.
    const api = e instanceof ApiError ? e : new ApiError(500, 'The run failed because of an internal error', 'internal_error')
    if (!(e instanceof ApiError)) (opts.log ?? k.log).error('run failed unexpectedly', { run_id: runId, error: String((e as Error)?.stack ?? e) })
    // Tools still running (a tool ignoring the timeout) are cancelled before the final event goes out.
    if (!signal.aborted) ac.abort(api)
    state.terminal = true
    emit({ type: 'run.failed', run_id: runId, error: api.message, code: api.code, status: api.status, result: finish() })
  } finally {
    clearTimeout(timer)
    opts.signal?.removeEventListener('abort', onCallerAbort)
    if (!state.terminal && !signal.aborted) ac.abort(new ApiError(499, 'The run was cancelled', 'cancelled'))
  }
}

/** Turns an event stream into the seed-shaped result. Config errors thrown before the first event become ok:false. */
export async function collect(events: AsyncIterable<RunEvent>): Promise<Collected> {
  try {
    if (events instanceof RunStream) {
      const e = await events.final()
      if (e?.type === 'run.completed') return { ok: true, result: e.result }
      if (e?.type === 'run.failed') return { ok: false, result: e.result, error: e.error, code: e.code, status: e.status }
      return { ok: false, result: emptyResult(), error: 'The run ended without a result', code: 'internal_error', status: 500 }
    }
    for await (const e of events) {
      if (e.type === 'run.completed') return { ok: true, result: e.result }
      if (e.type === 'run.failed') return { ok: false, result: e.result, error: e.error, code: e.code, status: e.status }
    }
    return { ok: false, result: emptyResult(), error: 'The run ended without a result', code: 'internal_error', status: 500 }
  } catch (err) {
    if (err instanceof ApiError) return { ok: false, result: emptyResult(), error: err.message, code: err.code, status: err.status }
    return { ok: false, result: emptyResult(), error: 'The run failed because of an internal error', code: 'internal_error', status: 500 }
  }
}
