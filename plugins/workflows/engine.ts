/**
 * The durable engine. An execution is a cursor over its pinned version's steps plus a state of step outputs,
 * both in workflow_executions. Every attempt is journaled (workflow_step_attempts) when it begins and ends in
 * the transaction that also advances the cursor, so after a crash an execution resumes at its first unfinished
 * step: a finished step never runs again, an attempt that was in flight is sent again under the same
 * idempotency key (DESIGN §13), a retry back-off or delay waits until its persisted time.
 */
import { perKernel, type Kernel } from '../../src/kernel'
import { iso } from '../../src/clock'
import { ApiError } from '../../src/http/errors'
import { evaluateBool } from '../../src/expr/index'
import { attemptsStore, executionsStore, workflowsStore, type AttemptEnd, type ExecutionRow } from './store'
import { execEvents } from './events'
import { buildInput, runAttempt, StepError, type AttemptContext, type Ctx } from './steps'
import { withLlmOverrides, type LlmOverrides } from './overrides'
import { backoffMs, maxAttempts } from './retry'
import { BUDGET_EXCEEDED, budgetExceededError, costBudgetOf, executionUsage } from './usage'
import { DEFAULT_TIMEOUT_MS, END, MAX_POSITIONS, type ExecState, type Step } from './types'

const POOL_SIZE = 16
const PURE = new Set(['transform', 'condition'])
const J = JSON.stringify
const parse = (s: string | null) => (s === null ? null : JSON.parse(s))
const message = (err: unknown) => (err instanceof Error ? err.message : String(err))

interface Version { steps: Step[]; byId: Map<string, Step>; index: Map<string, number>; variables: Record<string, unknown> }
/** Steps whose attempts can spend money (model calls), after which a cost budget is checked. */
const SPENDS = new Set(['llm', 'loop'])
type Outcome = { ok: true; output: unknown; commit: () => void } | { ok: false; error: string; output: unknown; commit: () => void } | { cancelled: true }

export class Engine {
  private running = new Map<string, { ac: AbortController; done: Promise<void> }>()
  private flushers = new Map<string, () => void>()
  private queue: string[] = []
  private active = 0
  /** Executions of the pool that are waiting out a delay or back-off: they do not hold a slot meanwhile. */
  private sleeping = 0
  private pooled = new Set<string>()
  private versions = new Map<string, Version>()
  /** Random source for jitter (tests may pin it). */
  random: () => number = Math.random

  constructor(private k: Kernel) {}

  /** The first step of a version (where a new execution starts), from the parsed-version cache. */
  firstStep(workflowId: string, v: number): string | null {
    try { return this.version(workflowId, v).steps[0]?.id ?? null } catch { return null }
  }

  private version(workflowId: string, v: number): Version {
    const key = `${workflowId}@${v}`
    let hit = this.versions.get(key)
    if (!hit) {
      const row = workflowsStore(this.k.db).version(workflowId, v)
      if (!row) throw new ApiError(500, `Workflow ${workflowId} has no version ${v}`)
      const steps = JSON.parse(row.steps) as Step[]
      hit = { steps, byId: new Map(steps.map((s) => [s.id, s])), index: new Map(steps.map((s, i) => [s.id, i])), variables: JSON.parse(row.variables) }
      if (this.versions.size > 500) this.versions.delete(this.versions.keys().next().value!)
      this.versions.set(key, hit)
    }
    return hit
  }

  /** Waits on the kernel clock (tests move a manual clock), polling at most every 200 ms. */
  sleepUntil = async (ms: number, signal: AbortSignal, execId?: string) => {
    if (ms - this.k.clock.now() <= 0) return
    if (!execId || !this.pooled.has(execId)) return this.wait(ms, signal)
    this.sleeping++
    this.pump() // a long delay must not block queued executions
    try { await this.wait(ms, signal) } finally { this.sleeping-- }
  }

  private async wait(ms: number, signal: AbortSignal) {
    while (!signal.aborted) {
      const left = ms - this.k.clock.now()
      if (left <= 0) return
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.min(left, 200))
        function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve() }
        signal.addEventListener('abort', done, { once: true })
      })
    }
  }

  /** Runs in the background pool (async executions, triggers, recovery). */
  enqueue(execId: string) {
    if (this.running.has(execId) || this.queue.includes(execId)) return
    this.queue.push(execId)
    this.pump()
  }

  private pump() {
    while (this.active - this.sleeping < POOL_SIZE && this.queue.length) {
      const id = this.queue.shift()!
      this.active++
      this.pooled.add(id)
      this.drive(id).catch((err) => this.k.log.error('workflow execution crashed', { execution_id: id, error: message(err) }))
        .finally(() => { this.active--; this.pooled.delete(id); this.pump() })
    }
  }

  /** Runs (or joins) an execution until it finishes, fails, is cancelled, or the process stops. */
  drive(execId: string): Promise<void> {
    const cur = this.running.get(execId)
    if (cur) return cur.done
    const ac = new AbortController()
    const done = this.loop(execId, ac.signal).finally(() => { this.running.delete(execId); this.flushers.delete(execId) })
    this.running.set(execId, { ac, done })
    return done
  }

  /** Cancels: marks the row (so it never resumes) and stops the running step. `why` says why (a budget). */
  cancel(execId: string, why = { error: 'The execution was cancelled', code: 'cancelled' }): boolean {
    const now = iso(this.k.clock.now())
    const ex = executionsStore(this.k.db).get(execId)
    if (!ex) return false
    const changed = this.k.db.transaction(() => {
      const n = executionsStore(this.k.db).finish(execId, 'cancelled', null, why.error, ex.cursor, now)
      if (n) attemptsStore(this.k.db).cancelRunning(execId, now)
      if (n) execEvents(this.k).record({ type: 'run.failed', execution_id: execId, status: 'cancelled', error: why.error, code: why.code })
      return n > 0
    })()
    this.running.get(execId)?.ac.abort(new ApiError(499, why.error, why.code))
    this.queue = this.queue.filter((id) => id !== execId)
    return changed
  }

  /** Stops every running execution without marking them (shutdown: they resume at the next start). */
  async stop() {
    this.queue = []
    const all = [...this.running.values()]
    for (const r of all) r.ac.abort(new Error('shutdown'))
    await Promise.allSettled(all.map((r) => r.done))
  }

  private async loop(execId: string, signal: AbortSignal) {
    const db = this.k.db
    const exs = executionsStore(db)
    let ex = exs.get(execId)
    if (!ex || !['queued', 'running', 'waiting'].includes(ex.status)) return
    const v = this.version(ex.workflow_id, ex.version)
    const firstStart = ex.started_at === null
    // Side-effect-free work (the start, transform and condition steps) is committed in one transaction with the
    // next step that has effects (or the end): losing it in a crash only means computing it again.
    let pending: Array<() => void> = [() => {
      exs.start(execId, iso(this.k.clock.now()))
      if (firstStart) execEvents(this.k).record({ type: 'run.started', execution_id: execId, workflow_id: ex!.workflow_id, version: ex!.version })
    }]
    // Consecutive pure steps each move the cursor: only the last move is written (one row update, not one a step).
    let advanceLater: (() => void) | null = null
    const flush = () => { for (const f of pending) f(); pending = []; advanceLater?.(); advanceLater = null }
    this.flushers.set(execId, flush) // a retry back-off commits what is pending together with its wait
    if (ex.wake_at) await this.sleepUntil(Date.parse(ex.wake_at), signal, execId) // a retry back-off persisted before a restart
    const state = JSON.parse(ex.state) as ExecState
    const wsId = workflowsStore(db).workspaceOf(ex.workflow_id)
    const base = { input: JSON.parse(ex.input), vars: v.variables, trigger: JSON.parse(ex.trigger_data) }
    const meta = JSON.parse(ex.meta) as { llm_overrides?: LlmOverrides; cost_budget_cents?: unknown }
    const overrides = meta.llm_overrides
    const budget = costBudgetOf(meta)
    let cursor = ex.cursor
    let position = ex.position
    // Resumed after a crash: a step that spent may have committed just before it, unchecked.
    if (budget !== null && position > 0 && this.overBudget(execId, budget)) return
    const resumedAt = position // only this position can have journal rows from before a restart
    while (cursor && cursor !== END) {
      if (signal.aborted) return
      const step = withLlmOverrides(v.byId.get(cursor)!, overrides)
      if (pending.length && !PURE.has(step.type)) db.transaction(flush)()
      if (position >= MAX_POSITIONS) return db.transaction(() => { flush(); this.finishFailed(ex!, `The execution entered more than ${MAX_POSITIONS} steps (a condition loops forever?)`, step.id) })()
      const visit = state.visits[step.id] ?? 0
      const ctx: Ctx = { ...base, steps: state.steps }
      const out = step.type === 'loop'
        ? await this.runLoop(ex, step, position, visit, ctx, wsId, signal, position === resumedAt, budget)
        : await this.attempts(ex, step, step, position, -1, visit, ctx, wsId, signal, position === resumedAt)
      if ('cancelled' in out) return
      if (!out.ok && !step.continue_on_error) {
        const failed = out
        db.transaction(() => { flush(); failed.commit(); this.finishFailed(ex!, failed.error, step.id) })()
        return
      }
      const output = out.ok ? out.output : { error: out.error, output: out.output }
      state.steps[step.output_key ?? step.id] = output
      state.visits[step.id] = visit + 1
      if (step.type !== 'condition') state.last = output
      const next = this.nextOf(v, step, out.ok ? output : null)
      position++
      const pos = position
      if (PURE.has(step.type)) {
        // Serialized when flushed: no step runs between the last pure step and its flush, so the state is the same.
        pending.push(out.commit)
        advanceLater = () => exs.advance(execId, J(state), next, pos, iso(this.k.clock.now()))
      } else {
        const s = J(state)
        db.transaction(() => { out.commit(); exs.advance(execId, s, next, pos, iso(this.k.clock.now())) })()
      }
      // No further step once the budget is spent (the last step too: the run went past its budget).
      if (budget !== null && SPENDS.has(step.type) && this.overBudget(execId, budget)) return
      cursor = next
    }
    db.transaction(() => {
      flush()
      const n = exs.finish(execId, 'success', J(state.last ?? null), null, null, iso(this.k.clock.now()))
      if (!n) return
      ex = exs.get(execId)!
      execEvents(this.k).record({ type: 'run.completed', execution_id: execId, status: 'success', output: state.last ?? null, steps: state.steps })
      this.k.events.publish('workflow.execution.completed', {
        execution_id: execId, workflow_id: ex.workflow_id, version: ex.version, source: ex.source, output: state.last ?? null,
        duration_ms: ex.started_at && ex.finished_at ? Date.parse(ex.finished_at) - Date.parse(ex.started_at) : null,
      }, { ownerId: ex.owner_id })
    })()
  }

  private nextOf(v: Version, step: Step, output: unknown): string {
    const dflt = step.next ?? v.steps[v.index.get(step.id)! + 1]?.id ?? END
    if (step.type !== 'condition' || output === null) return dflt
    const r = (output as { result?: boolean }).result
    return (r ? step.on_true : step.on_false) ?? dflt
  }

  private finishFailed(ex: ExecutionRow, error: string, stepId: string | null) {
    const n = executionsStore(this.k.db).finish(ex.id, 'failed', null, error, stepId, iso(this.k.clock.now()))
    if (!n) return
    execEvents(this.k).record({ type: 'run.failed', execution_id: ex.id, status: 'failed', error, code: 'step_failed', step_id: stepId })
    this.k.events.publish('workflow.execution.failed', { execution_id: ex.id, workflow_id: ex.workflow_id, version: ex.version, source: ex.source, error, step_id: stepId }, { ownerId: ex.owner_id })
  }

  /** Cancels the execution with budget_exceeded when its model calls cost more than `limit` cents. */
  private overBudget(execId: string, limit: number): boolean {
    const spent = executionUsage(this.k, execId).costCents
    if (spent <= limit) return false
    this.cancel(execId, { error: budgetExceededError(limit, spent), code: BUDGET_EXCEEDED })
    return true
  }

  private async runLoop(ex: ExecutionRow, step: Step, position: number, visit: number, ctx: Ctx, wsId: string | null, signal: AbortSignal, journaled: boolean, budget: number | null): Promise<Outcome> {
    let items: unknown[]
    try { items = buildInput(step, ctx, this.k.clock.now()).items as unknown[] } catch (err) {
      return { ok: false, error: message(err), output: null, commit: () => {} }
    }
    const inner = { ...step.step!, id: step.id, retry: step.step!.retry ?? step.retry, timeout_ms: step.step!.timeout_ms ?? step.timeout_ms } as Step
    const results: unknown[] = []
    for (let i = 0; i < items.length; i++) {
      const out = await this.attempts(ex, step, inner, position, i, visit, { ...ctx, each: { item: items[i], index: i, count: items.length } }, wsId, signal, journaled)
      if ('cancelled' in out) return out
      this.k.db.transaction(out.commit)() // each item's end is durable on its own: a resumed loop skips finished items
      if (budget !== null && inner.type === 'llm' && this.overBudget(ex.id, budget)) return { cancelled: true }
      if (!out.ok) return { ok: false, error: `Item ${i}: ${out.error}`, output: results, commit: () => {} }
      results.push(out.output)
    }
    return { ok: true, output: results, commit: () => {} }
  }

  /** The attempts of one step (or one loop item): resume, run, retry with back-off, journal. */
  private async attempts(ex: ExecutionRow, outer: Step, step: Step, position: number, iteration: number, visit: number, ctx: Ctx, wsId: string | null, signal: AbortSignal, journaled: boolean): Promise<Outcome> {
    const db = this.k.db
    const att = attemptsStore(db)
    const events = execEvents(this.k)
    const rows = journaled ? att.atPosition(ex.id, position).filter((r) => r.iteration === iteration) : []
    const last = rows.at(-1)
    if (last?.status === 'success') return { ok: true, output: parse(last.output), commit: () => {} }
    let attempt = last ? (last.status === 'running' ? last.attempt : last.attempt + 1) : 1
    let resumed = last?.status === 'running' ? last : null
    const max = maxAttempts(step.retry)
    const stepKey = `${outer.id}${visit ? `.${visit + 1}` : ''}${iteration >= 0 ? `[${iteration}]` : ''}`
    const it = iteration >= 0 ? { iteration } : {}
    // A pure step's attempt is written once with its outcome; others were begun in their own commit.
    const endAttempt = (begin: ((end: AttemptEnd) => void) | null, end: AttemptEnd) =>
      begin ? begin(end) : att.end(ex.id, position, iteration, attempt, end.status, end.output, end.error, end.finished_at)
    for (;;) {
      const key = `${ex.id}:${stepKey}:${attempt}`
      let beginLater: ((end: AttemptEnd) => void) | null = null
      let input: Record<string, unknown>
      if (resumed) input = parse(resumed.input)
      else {
        try { input = buildInput(step, ctx, this.k.clock.now()) } catch (err) {
          const error = message(err)
          return { ok: false, error, output: null, commit: () => {
            att.begin({ execution_id: ex.id, position, iteration, attempt, step_id: outer.id, step_type: step.type, idempotency_key: key, input: null, started_at: iso(this.k.clock.now()) })
            att.end(ex.id, position, iteration, attempt, 'failed', null, error, iso(this.k.clock.now()))
            events.record({ type: 'step.failed', execution_id: ex.id, step_id: outer.id, step_type: step.type, attempt, ...it, error, will_retry: false })
          } }
        }
        const inp = input
        // Steps without side effects (transform, condition) journal their begin with their end: one commit, and
        // one row written with its outcome.
        if (PURE.has(step.type)) {
          const startedAt = iso(this.k.clock.now())
          beginLater = (end) => {
            att.insertEnded({ execution_id: ex.id, position, iteration, attempt, step_id: outer.id, step_type: step.type, idempotency_key: key, input: J(inp), started_at: startedAt, ...end })
            events.record({ type: 'step.started', execution_id: ex.id, step_id: outer.id, step_type: step.type, attempt, ...it, idempotency_key: key, input: inp })
          }
        }
        else db.transaction(() => {
          att.begin({ execution_id: ex.id, position, iteration, attempt, step_id: outer.id, step_type: step.type, idempotency_key: key, input: J(inp), started_at: iso(this.k.clock.now()) })
          if (step.type === 'delay') executionsStore(db).wait(ex.id, String(inp.until), iso(this.k.clock.now()))
          events.record({ type: 'step.started', execution_id: ex.id, step_id: outer.id, step_type: step.type, attempt, ...it, idempotency_key: key, input: inp })
        })()
      }
      resumed = null
      const started = performance.now()
      let output: unknown = null
      let error: string | null = null
      const ac = new AbortController()
      const onAbort = () => ac.abort(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      const timeoutMs = step.type === 'delay' ? null : step.timeout_ms ?? DEFAULT_TIMEOUT_MS
      let timer: ReturnType<typeof setTimeout> | undefined
      try {
        const a: AttemptContext = {
          k: this.k, ownerId: ex.owner_id, workspaceId: wsId, executionId: ex.id, workflowId: ex.workflow_id, idempotencyKey: key, signal: ac.signal, sleepUntil: (ms, sig) => this.sleepUntil(ms, sig, ex.id),
          onEvent: (e) => { events.record({ ...e, execution_id: ex.id, step_id: outer.id }) },
        }
        const work = runAttempt(step, input, ctx, a)
        work.catch(() => {})
        output = timeoutMs === null ? await work : await Promise.race([work, new Promise<never>((_, reject) => {
          timer = setTimeout(() => { reject(new StepError(`The step timed out after ${timeoutMs} ms`, null, 'timeout')); ac.abort(new Error('timeout')) }, timeoutMs)
        })])
      } catch (err) {
        error = message(err)
        if (err instanceof StepError) output = err.output
      } finally {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
      }
      const ms = Math.round((performance.now() - started) * 10) / 10
      if (signal.aborted) {
        // Cancel journals the stopped attempt itself; on shutdown it stays running so the next start sends it again.
        return { cancelled: true }
      }
      if (error === null) {
        const out = output
        const begin = beginLater
        return { ok: true, output: out, commit: () => {
          endAttempt(begin, { status: 'success', output: J(out ?? null), error: null, finished_at: iso(this.k.clock.now()) })
          events.record({ type: 'step.completed', execution_id: ex.id, step_id: outer.id, step_type: step.type, attempt, ...it, output: out ?? null, duration_ms: ms })
        } }
      }
      let retry = attempt < max
      if (retry && step.retry?.retry_if) {
        try { retry = evaluateBool(step.retry.retry_if, { error, output }) } catch { retry = false }
      }
      if (!retry) {
        const err = error, out = output
        const begin = beginLater
        return { ok: false, error: err, output: out, commit: () => {
          endAttempt(begin, { status: 'failed', output: J(out ?? null), error: err, finished_at: iso(this.k.clock.now()) })
          events.record({ type: 'step.failed', execution_id: ex.id, step_id: outer.id, step_type: step.type, attempt, ...it, error: err, will_retry: false, duration_ms: ms })
        } }
      }
      const wait = backoffMs(step.retry, attempt + 1, this.random)
      const wakeIso = new Date(this.k.clock.now() + wait).toISOString() // milliseconds: second precision is too coarse for back-offs
      const begin = beginLater
      db.transaction(() => {
        this.flushers.get(ex.id)?.()
        endAttempt(begin, { status: 'failed', output: J(output ?? null), error, finished_at: iso(this.k.clock.now()) })
        executionsStore(db).wait(ex.id, wakeIso, iso(this.k.clock.now()))
        events.record({ type: 'step.failed', execution_id: ex.id, step_id: outer.id, step_type: step.type, attempt, ...it, error, will_retry: true, retry_in_ms: wait, retry_at: wakeIso, duration_ms: ms })
      })()
      await this.sleepUntil(Date.parse(wakeIso), signal, ex.id)
      if (signal.aborted) return { cancelled: true }
      executionsStore(db).start(ex.id, iso(this.k.clock.now()))
      attempt++
    }
  }
}

export const engine = perKernel((k) => {
  const e = new Engine(k)
  return Object.assign(e, { close: () => { void e.stop() } })
})
