import { perKernel, type Kernel } from '../../src/kernel'
import { ApiError, badRequest } from '../../src/http/errors'
import { iso } from '../../src/clock'
import { newId, timeOrderedId } from '../../src/db/ids'
import type { Principal } from '../../src/auth/principal'
import type { RunEvent, RunResult } from '../../src/agent/types'
import * as scheduledAgents from '../agents/service'
import { TextDeltaEvent } from '../../src/http/sse'
import * as wallet from '../wallet/service'
import { handleIncoming } from '../bots/service'
import * as endpoints from '../agent-endpoints/service'
import { executeAgentRun, startAgentRun } from '../openai/service'
import { tasksStore, type TaskRow, type TaskState } from './store'
import type { AgentRow } from './directory'

/**
 * Messages create tasks (issue 15): a /v1 message is stored with its task (`submitted`), then the agent runs
 * (`working`) and the task ends `completed`, `failed` or `canceled` (A2A states). For agent endpoints the task
 * is a run with source `task`; bots answer through their own engine (conversation, billing, bot events).
 */

export interface MessageInput { content: string; channel?: string; metadata?: Record<string, unknown> }

export const MAX_CONTENT = 100_000
const MAX_METADATA = 16 * 1024

export function checkMessage(body: MessageInput) {
  if (!body.content.trim()) throw badRequest('content must not be empty', { content: 'must not be empty' })
  if (body.metadata !== undefined && JSON.stringify(body.metadata).length > MAX_METADATA) throw badRequest('metadata is larger than 16 KB', { metadata: 'too large' })
}

/** Stores the message and its task; for endpoints `agent.message.received` commits with it (bots publish theirs). */
export function submit(k: Kernel, p: Principal, agent: AgentRow, body: MessageInput): TaskRow {
  const ms = k.clock.now()
  const now = iso(ms)
  const task: TaskRow = {
    id: timeOrderedId('task', ms), message_id: newId('msg'), agent_id: agent.id, owner_id: agent.owner_id, workspace_id: agent.workspace_id,
    token_id: p.tokenId ?? null, state: 'submitted', content: body.content, channel: body.channel ?? 'api',
    metadata: body.metadata ? JSON.stringify(body.metadata) : null, output: null, error: null, error_code: null, run_id: null,
    tokens_input: 0, tokens_output: 0, cost_micro: 0, created_at: now, updated_at: now, completed_at: null,
  }
  k.db.transaction(() => {
    tasksStore(k.db).insert(task)
    if (agent.type !== 'bot') {
      k.events.publish('agent.message.received', {
        agent_id: agent.id, message_id: task.message_id, task_id: task.id, channel: task.channel, content: task.content, metadata: body.metadata ?? null,
      }, { ownerId: agent.owner_id })
    }
  })()
  return task
}

/** How a task ended (A2A's terminal states). */
interface Outcome { state: Extract<TaskState, 'completed' | 'failed' | 'canceled'>; output: string | null; error: string | null; code: string | null; runId: string | null; tokensIn: number; tokensOut: number; micro: number; replyId: string | null }

/** Ends the task and publishes agent.task.completed (and, for endpoints, agent.message.sent) in one transaction. */
function finish(k: Kernel, task: TaskRow, agent: AgentRow, o: Outcome) {
  const now = iso(k.clock.now())
  k.db.transaction(() => {
    const changed = tasksStore(k.db).finish({
      id: task.id, state: o.state, output: o.output, error: o.error, error_code: o.code, run_id: o.runId, tokens_input: o.tokensIn,
      tokens_output: o.tokensOut, cost_micro: o.micro, updated_at: now, completed_at: now,
    })
    if (!changed) return
    const who = { ownerId: agent.owner_id }
    if (agent.type !== 'bot' && o.state === 'completed') {
      k.events.publish('agent.message.sent', {
        agent_id: agent.id, message_id: o.replyId ?? newId('msg'), reply_to: task.message_id, task_id: task.id, channel: task.channel, content: o.output ?? '',
      }, who)
    }
    k.events.publish('agent.task.completed', {
      task_id: task.id, agent_id: agent.id, message_id: task.message_id, state: o.state, output: o.output, run_id: o.runId,
      error: o.error, code: o.code, usage: { tokens_input: o.tokensIn, tokens_output: o.tokensOut, cost_cents: wallet.toCents(o.micro) },
    }, who)
  })()
}

const failedOutcome = (err: unknown, runId: string | null = null): Outcome => {
  const api = err instanceof ApiError ? err : new ApiError(500, (err as Error)?.message ?? String(err), 'internal_error')
  return { state: api.status === 499 ? 'canceled' : 'failed', output: null, error: api.message, code: api.code, runId, tokensIn: 0, tokensOut: 0, micro: 0, replyId: null }
}

/**
 * Runs the task's agent, yielding run events (DESIGN §6) for SSE; consumed to the end for background and
 * `?wait=true` calls. A consumer that stops early (SSE client gone) cancels the run: the task ends `canceled`.
 */
export async function* execute(k: Kernel, task: TaskRow, agent: AgentRow, opts: { callerIp: string | null; stream: boolean; principal: Principal }): AsyncGenerator<RunEvent> {
  let outcome: Outcome | null = null
  try {
    if (agent.type === 'endpoint') {
      const ep = endpoints.findByIdOrSlug(k, agent.id)
      if (!ep || ep.status !== 'active') throw new ApiError(409, 'The agent is offline (not active)', 'agent_offline')
      const ask = { input: { message: task.content }, callerIp: opts.callerIp, source: 'task' as const, channel: task.channel, caller: task.token_id ?? 'session' }
      if (!opts.stream) {
        // Background and ?wait=true: the run to its end in one go (one write), nothing to stream.
        tasksStore(k.db).working(task.id, null, iso(k.clock.now()))
        const out = await executeAgentRun(k, ep, { ...ask, mode: 'sync' })
        const u = out.result.usage
        const usage = { tokensIn: u.tokens_input, tokensOut: u.tokens_output, micro: out.run.cost_micro }
        const o = out.result.output
        outcome = out.ok
          ? { state: 'completed', output: typeof o === 'string' ? o : JSON.stringify(o), error: null, code: null, runId: out.run.id, ...usage, replyId: newId('msg') }
          : { ...failedOutcome(new ApiError(out.error!.status, out.error!.message, out.error!.code), out.run.id), ...usage }
        return
      }
      let started
      try {
        started = await startAgentRun(k, ep, { ...ask, mode: 'stream' })
      } catch (err) {
        outcome = failedOutcome(err)
        const api = err instanceof ApiError ? err : new ApiError(500, String(err))
        yield { type: 'run.failed', run_id: task.id, error: api.message, code: api.code, status: api.status, result: emptyish() }
        return
      }
      tasksStore(k.db).working(task.id, started.runId, iso(k.clock.now()))
      for await (const e of started.events) {
        if (e.type === 'run.started') yield { ...e, task_id: task.id, agent_id: agent.id }
        else yield e
        if (e.type === 'run.completed') {
          const o = e.result.output
          outcome = {
            state: 'completed', output: typeof o === 'string' ? o : JSON.stringify(o), error: null, code: null, runId: started.runId,
            tokensIn: e.result.usage.tokens_input, tokensOut: e.result.usage.tokens_output, micro: Math.round(e.result.usage.cost_micro), replyId: newId('msg'),
          }
        } else if (e.type === 'run.failed') {
          outcome = { ...failedOutcome(new ApiError(e.status, e.error, e.code), started.runId), tokensIn: e.result.usage.tokens_input, tokensOut: e.result.usage.tokens_output }
        }
      }
      return
    }
    if (agent.type === 'scheduled') {
      yield* scheduled(k, task, agent, opts.principal, (o) => { outcome = o })
      return
    }
    // Bots: their engine records the conversation, bills and publishes the bot's and agent's message events.
    tasksStore(k.db).working(task.id, null, iso(k.clock.now()))
    const runId = newId('run')
    yield { type: 'run.started', run_id: runId, task_id: task.id, agent_id: agent.id }
    let r
    try {
      r = await handleIncoming(k, agent.id, { chatId: `v1:${task.channel}:${task.token_id ?? task.owner_id}`, userId: task.token_id ?? task.owner_id, text: task.content })
    } catch (err) {
      outcome = failedOutcome(err)
      const api = err instanceof ApiError ? err : new ApiError(500, String(err))
      yield { type: 'run.failed', run_id: runId, error: api.message, code: api.code, status: api.status, result: emptyish() }
      return
    }
    const answer = r.replies.at(-1) ?? ''
    const usage = r.result?.usage
    const base = { runId: null, tokensIn: usage?.tokens_input ?? 0, tokensOut: usage?.tokens_output ?? 0, micro: Math.round(usage?.cost_micro ?? 0), replyId: r.assistantMessageId }
    if (r.failed) {
      outcome = { ...base, state: 'failed', output: answer, error: r.error?.message ?? 'The bot could not answer', code: r.error?.code ?? 'run_failed' }
      yield { type: 'run.failed', run_id: runId, error: outcome.error!, code: outcome.code!, status: r.error?.status ?? 502, result: r.result ?? emptyish() }
    } else {
      outcome = { ...base, state: 'completed', output: answer, error: null, code: null }
      yield new TextDeltaEvent(runId, answer) as RunEvent
      yield { type: 'run.completed', run_id: runId, result: r.result! }
    }
  } catch (err) {
    outcome ??= failedOutcome(err)
  } finally {
    finish(k, task, agent, outcome ?? failedOutcome(new ApiError(499, 'The stream was closed before the task finished; it was canceled', 'cancelled')))
  }
}

/**
 * Scheduled agents: a manual run of the deployed workflow (through its schedule's overlap policy), with the
 * message as its input. Buffered behind a running fire or refused by the policy: the task fails saying so.
 */
async function* scheduled(k: Kernel, task: TaskRow, agent: AgentRow, p: Principal, done: (o: Outcome) => void): AsyncGenerator<RunEvent> {
  tasksStore(k.db).working(task.id, null, iso(k.clock.now()))
  const runId = newId('run')
  yield { type: 'run.started', run_id: runId, task_id: task.id, agent_id: agent.id }
  const metadata = task.metadata ? JSON.parse(task.metadata) as Record<string, unknown> : null
  const r = await scheduledAgents.execute(k, p, agent.id, { content: task.content, channel: task.channel, metadata })
  const run = r.body.run
  if (!run || run.status !== 'succeeded') {
    const error = run?.error ?? r.body.message ?? `The agent run ${run?.status ?? r.body.status}`
    done({ state: 'failed', output: null, error, code: run ? 'run_failed' : 'not_started', runId: null, tokensIn: 0, tokensOut: 0, micro: 0, replyId: null })
    yield { type: 'run.failed', run_id: runId, error, code: 'run_failed', status: 502, result: emptyish() }
    return
  }
  const output = typeof run.output === 'string' ? run.output : JSON.stringify(run.output)
  done({ state: 'completed', output, error: null, code: null, runId: null, tokensIn: run.tokens, tokensOut: 0, micro: wallet.fromCents(run.cost_cents), replyId: newId('msg') })
  yield new TextDeltaEvent(runId, output) as RunEvent
  const result = emptyish()
  result.output = output
  result.text = output
  yield { type: 'run.completed', run_id: runId, result }
}

function emptyish(): RunResult {
  return {
    output: '', text: '', tool_calls: [], messages: [], stop_reason: null,
    usage: { tokens_input: 0, tokens_output: 0, cost_cents: 0, cost_micro: 0, cost_known: true, latency_ms: 0, iterations: 0 },
    token_breakdown: { systemPrompt: 0, total: 0, estimated: true },
  }
}

/** Drains a task's run in the background (the 201 path); kept in a set so shutdown can see work in flight. */
const tasksInFlight = perKernel(() => new Set<Promise<void>>())

export function runInBackground(k: Kernel, gen: AsyncGenerator<RunEvent>) {
  const inflight = tasksInFlight(k)
  // After the 201 is on its way: the run's set-up (spec, billing, first model call) stays off the request path.
  const p = new Promise<void>((resolve) => setImmediate(resolve))
    .then(async () => { for await (const _ of gen) { /* the task records itself */ } })
    .catch((err) => k.log.error('task failed', { error: String(err) }))
    .finally(() => inflight.delete(p))
  inflight.add(p)
  return p
}

/** After a restart, tasks that were in flight cannot resume (their run was in memory): they end failed. */
export function failInterrupted(k: Kernel) {
  const now = iso(k.clock.now())
  const store = tasksStore(k.db)
  // One transaction: one commit for however many tasks the crash left open, not one fsync per task.
  k.db.transaction(() => {
    for (const t of store.unfinished()) {
      store.finish({ id: t.id, state: 'failed', output: null, error: 'The server restarted while the task ran', error_code: 'interrupted', run_id: t.run_id, tokens_input: 0, tokens_output: 0, cost_micro: 0, updated_at: now, completed_at: now })
    }
  })()
}

export function taskView(t: TaskRow) {
  return {
    id: t.id, agent_id: t.agent_id, message_id: t.message_id, state: t.state, status: { state: t.state, timestamp: t.updated_at },
    content: t.content, channel: t.channel, metadata: t.metadata ? JSON.parse(t.metadata) as Record<string, unknown> : null, output: t.output,
    error: t.error === null ? null : { message: t.error, code: t.error_code ?? 'error' }, run_id: t.run_id,
    usage: { tokens_input: t.tokens_input, tokens_output: t.tokens_output, cost_cents: wallet.toCents(t.cost_micro) },
    created_at: t.created_at, updated_at: t.updated_at, completed_at: t.completed_at,
  }
}
