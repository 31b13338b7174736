/**
 * Workflows: definitions with immutable versions, executions pinned to a version, and the service other
 * domains call (`executeWorkflow`: the scheduler, triggers, bots). Routes live in index.ts.
 */
import type { Kernel } from '../../src/kernel'
import type { Principal } from '../../src/auth/principal'
import { canAccess, listScope } from '../../src/auth/principal'
import { iso, nowIso } from '../../src/clock'
import { newId, randomString, timeOrderedId } from '../../src/db/ids'
import { ApiError, badRequest, notFound } from '../../src/http/errors'
import { workspaceToolSet } from '../../src/tools/workspace-tools'
import * as workspaces from '../workspaces/service'
import { attemptsStore, executionsStore, workflowsStore, type ExecutionRow, type WorkflowRow } from './store'
import { engine } from './engine'
import { execEvents } from './events'
import { stepProblems, throwProblems, triggerProblems, type ToolInfo } from './validate'
import { WORKFLOW_STATUSES, type ExecState, type Step, type TriggerType } from './types'

const J = JSON.stringify
const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v)

export interface WorkflowInput {
  name?: string; description?: string; status?: string; trigger_type?: string; trigger_config?: Record<string, unknown>
  variables?: Record<string, unknown>; steps?: unknown[]; workflow_metadata?: Record<string, unknown>; workspace_id?: string | null; is_template?: boolean
}

export function view(r: WorkflowRow, opts: { base?: string; secret?: string } = {}) {
  return {
    id: r.id, name: r.name, description: r.description, status: r.status, version: r.version, is_template: r.is_template === 1,
    trigger_type: r.trigger_type, trigger_config: JSON.parse(r.trigger_config), variables: JSON.parse(r.variables),
    workflow_metadata: JSON.parse(r.workflow_metadata), workspace_id: r.workspace_id, created_at: r.created_at, updated_at: r.updated_at,
    steps: JSON.parse(r.steps) as Step[],
    ...(r.trigger_type === 'webhook' ? {
      webhook: { url: `${opts.base ?? ''}/api/workflows/hooks/${r.id}`, secret_header: 'X-Workflow-Secret', has_secret: !!r.hook_secret, ...(opts.secret ? { secret: opts.secret } : {}) },
    } : {}),
  }
}
export type WorkflowView = ReturnType<typeof view>

export function requireWorkflow(k: Kernel, who: Principal, id: string): WorkflowRow {
  const r = workflowsStore(k.db).get(id)
  if (!r || !canAccess(who, r.owner_id, r.workspace_id)) throw notFound('Workflow')
  return r
}

/** The caller's tool catalog by name (including tools that need a connection), for validation. */
export async function toolInfo(k: Kernel, ownerId: string, workspaceId: string | null): Promise<Map<string, ToolInfo>> {
  const all = await workspaceToolSet(k, ownerId, workspaceId).catalog(true)
  return new Map(all.map((t) => [t.name, { name: t.name, inputSchema: t.inputSchema, available: t.available, platform: t.platform }]))
}

function checkFields(input: WorkflowInput) {
  const p: Record<string, string> = {}
  if (input.name !== undefined && (typeof input.name !== 'string' || !input.name.trim() || input.name.length > 200)) p.name = 'must be 1-200 characters'
  if (input.description !== undefined && (typeof input.description !== 'string' || input.description.length > 10_000)) p.description = 'must be at most 10,000 characters'
  if (input.status !== undefined && !WORKFLOW_STATUSES.includes(input.status as never)) p.status = `must be one of ${WORKFLOW_STATUSES.join(', ')}`
  for (const f of ['variables', 'workflow_metadata'] as const) if (input[f] !== undefined && !isObj(input[f])) p[f] = 'must be an object'
  Object.assign(p, triggerProblems(input.trigger_type, input.trigger_config))
  throwProblems(p)
}

/** A fresh webhook secret, shown once (in the response that minted it). */
const mintSecret = () => `wfs_${randomString(32)}`

export async function create(k: Kernel, who: Principal, input: WorkflowInput, opts: { validateTools?: boolean; base?: string } = {}) {
  checkFields(input)
  const wsId = input.workspace_id ?? who.workspaceId ?? null
  if (wsId) workspaces.requireOwned(k, who, wsId)
  const steps = input.steps ?? []
  throwProblems(stepProblems(steps, opts.validateTools === false ? null : await toolInfo(k, who.userId, wsId)))
  const now = nowIso(k.clock)
  const trigger = (input.trigger_type ?? 'manual') as TriggerType
  const secret = trigger === 'webhook' ? mintSecret() : null
  const row: WorkflowRow = {
    id: newId('wf'), owner_id: who.userId, workspace_id: wsId, name: (input.name ?? 'Untitled workflow').trim(), description: input.description ?? '',
    status: input.status ?? 'draft', version: 1, is_template: input.is_template ? 1 : 0, trigger_type: trigger, trigger_config: J(input.trigger_config ?? {}),
    variables: J(input.variables ?? {}), workflow_metadata: J(input.workflow_metadata ?? {}), steps: J(steps), hook_secret: secret ? k.secrets.seal(secret) : null,
    created_at: now, updated_at: now,
  }
  k.db.transaction(() => {
    workflowsStore(k.db).insert(row)
    workflowsStore(k.db).insertVersion({ workflow_id: row.id, version: 1, steps: row.steps, trigger_type: row.trigger_type, trigger_config: row.trigger_config, variables: row.variables, created_at: now })
  })()
  return view(row, { base: opts.base, secret: secret ?? undefined })
}

/** Changes to steps, trigger or variables make a new immutable version; running executions keep theirs. */
export async function update(k: Kernel, who: Principal, id: string, patch: WorkflowInput, base?: string) {
  const r = requireWorkflow(k, who, id)
  checkFields(patch)
  if (patch.workspace_id !== undefined && patch.workspace_id !== r.workspace_id) throw badRequest('workspace_id cannot be changed', { workspace_id: 'is immutable' })
  if (patch.steps !== undefined) throwProblems(stepProblems(patch.steps, await toolInfo(k, r.owner_id, r.workspace_id)))
  if ((patch.trigger_type ?? r.trigger_type) === 'event' && patch.trigger_config !== undefined) throwProblems(triggerProblems('event', patch.trigger_config))
  const next: WorkflowRow = { ...r }
  if (patch.name !== undefined) next.name = patch.name.trim()
  if (patch.description !== undefined) next.description = patch.description
  if (patch.status !== undefined) next.status = patch.status
  if (patch.is_template !== undefined) next.is_template = patch.is_template ? 1 : 0
  if (patch.workflow_metadata !== undefined) next.workflow_metadata = J(patch.workflow_metadata)
  if (patch.trigger_type !== undefined) next.trigger_type = patch.trigger_type
  if (patch.trigger_config !== undefined) next.trigger_config = J(patch.trigger_config)
  if (patch.variables !== undefined) next.variables = J(patch.variables)
  if (patch.steps !== undefined) next.steps = J(patch.steps)
  let secret: string | undefined
  if (next.trigger_type === 'webhook' && !next.hook_secret) next.hook_secret = k.secrets.seal((secret = mintSecret()))
  const versioned = next.steps !== r.steps || next.trigger_type !== r.trigger_type || next.trigger_config !== r.trigger_config || next.variables !== r.variables
  const now = nowIso(k.clock)
  next.updated_at = now
  if (versioned) next.version = r.version + 1
  k.db.transaction(() => {
    workflowsStore(k.db).update(next)
    if (versioned) workflowsStore(k.db).insertVersion({ workflow_id: id, version: next.version, steps: next.steps, trigger_type: next.trigger_type, trigger_config: next.trigger_config, variables: next.variables, created_at: now })
  })()
  return view(next, { base, secret })
}

export function rotateSecret(k: Kernel, who: Principal, id: string, base?: string) {
  const r = requireWorkflow(k, who, id)
  if (r.trigger_type !== 'webhook') throw new ApiError(409, 'This workflow has no webhook trigger (set trigger_type to "webhook")', 'not_webhook')
  const secret = mintSecret()
  const next = { ...r, hook_secret: k.secrets.seal(secret), updated_at: nowIso(k.clock) }
  workflowsStore(k.db).update(next)
  return view(next, { base, secret })
}

export function list(k: Kernel, who: Principal, base?: string) {
  const s = listScope(who)
  return workflowsStore(k.db).list(s.ownerId, s.workspaceId).map((r) => view(r, { base }))
}

export function remove(k: Kernel, who: Principal, id: string) {
  const r = requireWorkflow(k, who, id)
  for (const e of executionsStore(k.db).list(null, r.id, 10_000)) if (['queued', 'running', 'waiting'].includes(e.status)) engine(k).cancel(e.id)
  workflowsStore(k.db).remove(r.id)
}

export function versions(k: Kernel, who: Principal, id: string) {
  const r = requireWorkflow(k, who, id)
  return workflowsStore(k.db).versions(r.id).map((v) => ({
    version: v.version, current: v.version === r.version, steps: JSON.parse(v.steps), trigger_type: v.trigger_type,
    trigger_config: JSON.parse(v.trigger_config), variables: JSON.parse(v.variables), created_at: v.created_at,
  }))
}

// Executions

export interface ExecuteOptions {
  workflowId: string
  ownerId: string
  input?: Record<string, unknown>
  trigger?: Record<string, unknown>
  /** manual | webhook | event | schedule | bot | chat | template */
  source?: string
  mode?: 'sync' | 'async' | 'stream'
  meta?: Record<string, unknown>
  /** Run at the current version unless told otherwise. */
  version?: number
}

/** Creates the execution row (durable from here on) without running it. */
export function createExecution(k: Kernel, o: ExecuteOptions): ExecutionRow {
  const wf = workflowsStore(k.db).get(o.workflowId)
  if (!wf || wf.owner_id !== o.ownerId) throw notFound('Workflow')
  if (wf.status === 'archived') throw new ApiError(409, 'The workflow is archived; set its status to active or draft to run it', 'workflow_archived')
  const version = o.version ?? wf.version
  const input = o.input ?? {}
  if (!isObj(input)) throw badRequest('input_data must be an object', { input_data: 'must be an object' })
  const now = k.clock.now()
  const state: ExecState = { steps: {}, visits: {} }
  const row = {
    id: timeOrderedId('wfx', now), workflow_id: wf.id, owner_id: wf.owner_id, version, status: 'queued' as const, source: o.source ?? 'manual', mode: o.mode ?? 'async',
    input: J(input), trigger_data: J(o.trigger ?? { type: o.source ?? 'manual' }), meta: J(o.meta ?? {}), state: J(state), cursor: engine(k).firstStep(wf.id, version), created_at: iso(now),
  }
  executionsStore(k.db).insert(row)
  execEvents(k).fresh(row.id)
  // The row as inserted (what a re-read would return), without reading it back.
  return { ...row, position: 0, wake_at: null, output: null, error: null, error_step: null, started_at: null, finished_at: null, updated_at: row.created_at }
}

/**
 * The entry point for every domain (scheduler, triggers, bots): creates a durable execution of the workflow's
 * current version and runs it. `mode: 'sync'` resolves when it has finished; otherwise it resolves once the
 * execution is recorded and queued. Returns the execution view.
 */
export async function executeWorkflow(k: Kernel, o: ExecuteOptions) {
  const row = createExecution(k, o)
  if (o.mode === 'sync') await engine(k).drive(row.id)
  else engine(k).enqueue(row.id)
  return executionView(k, executionsStore(k.db).get(row.id)!, o.mode === 'sync')
}

export function executionView(k: Kernel, r: ExecutionRow, withAttempts = false) {
  const state = JSON.parse(r.state) as ExecState
  return {
    id: r.id, execution_id: r.id, workflow_id: r.workflow_id, version: r.version, status: r.status, source: r.source, mode: r.mode,
    input_data: JSON.parse(r.input), trigger: JSON.parse(r.trigger_data), meta: JSON.parse(r.meta),
    output_data: r.output === null ? null : JSON.parse(r.output), step_results: state.steps, error: r.error, error_step: r.error_step,
    current_step: r.cursor, wake_at: r.wake_at, started_at: r.started_at, finished_at: r.finished_at, created_at: r.created_at, updated_at: r.updated_at,
    status_url: `/api/workflows/executions/${r.id}`, events_url: `/api/workflows/executions/${r.id}/events`,
    ...(withAttempts ? { steps: attemptsStore(k.db).all(r.id).map((a) => ({
      step_id: a.step_id, step_type: a.step_type, position: a.position, ...(a.iteration >= 0 ? { iteration: a.iteration } : {}), attempt: a.attempt,
      status: a.status, idempotency_key: a.idempotency_key, input: a.input === null ? null : JSON.parse(a.input), output: a.output === null ? null : JSON.parse(a.output),
      error: a.error, started_at: a.started_at, finished_at: a.finished_at,
    })) } : {}),
  }
}

export function requireExecution(k: Kernel, who: Principal, id: string): ExecutionRow {
  const r = executionsStore(k.db).get(id)
  if (!r || !canAccess(who, r.owner_id)) throw notFound('Execution')
  if (who.workspaceId) {
    const wf = workflowsStore(k.db).get(r.workflow_id)
    if (!wf || wf.workspace_id !== who.workspaceId) throw notFound('Execution')
  }
  return r
}

export function listExecutions(k: Kernel, who: Principal, workflowId: string | null, limit = 100) {
  if (workflowId) requireWorkflow(k, who, workflowId)
  const s = listScope(who)
  let rows = executionsStore(k.db).list(s.ownerId, workflowId, Math.min(Math.max(limit, 1), 500))
  if (who.workspaceId && !workflowId) {
    const allowed = new Set(workflowsStore(k.db).list(s.ownerId, who.workspaceId).map((w) => w.id))
    rows = rows.filter((r) => allowed.has(r.workflow_id))
  }
  return rows.map((r) => executionView(k, r))
}

export function cancelExecution(k: Kernel, who: Principal, id: string) {
  const r = requireExecution(k, who, id)
  if (!['queued', 'running', 'waiting'].includes(r.status)) throw new ApiError(409, `The execution has already finished (${r.status})`, 'already_finished')
  engine(k).cancel(r.id)
  return executionView(k, executionsStore(k.db).get(r.id)!, true)
}

/** Every unfinished execution resumes at its first unfinished step (called when serve starts). */
export function resumeUnfinished(k: Kernel): number {
  const ids = executionsStore(k.db).unfinished()
  for (const { id } of ids) engine(k).enqueue(id)
  return ids.length
}

export const isUnfinished = (k: Kernel, id: string) => {
  const s = executionsStore(k.db).status(id)
  return s === 'queued' || s === 'running' || s === 'waiting'
}

export { execEvents }

/** Where a workflow lives and what it says it does (for agents deployed from it); null when it is gone. */
export function workflowSummary(k: Kernel, id: string): { workspace_id: string | null; description: string } | null {
  const w = workflowsStore(k.db).get(id)
  return w ? { workspace_id: w.workspace_id, description: w.description } : null
}

/** For scheduled agents (plugins/agents): the owner's workflow, driving and cancelling an execution, its result and usage. */
export function findOwnedWorkflow(k: Kernel, ownerId: string, id: string): { id: string; name: string } | null {
  const w = workflowsStore(k.db).get(id)
  return w && w.owner_id === ownerId ? { id: w.id, name: w.name } : null
}
export const driveExecution = (k: Kernel, id: string) => engine(k).drive(id)
export const cancelExecutionById = (k: Kernel, id: string) => engine(k).cancel(id)
export const getExecution = (k: Kernel, id: string): ExecutionRow | null => executionsStore(k.db).get(id) ?? null
export { executionFailureCode, executionUsage } from './usage'

/** What other domains use of workflows: bot workflows, execution event streams, tool names, dry runs, step types. */
export { answerWithWorkflow, isStepsWorkflow, validateBotWorkflow } from './bots'
export { follow } from './events'
export { toolNameOf } from './tool-provider'
export { dryRun } from './dry-run'
export type { Step } from './types'
export type { LlmOverrides } from './overrides'
