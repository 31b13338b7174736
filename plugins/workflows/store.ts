/** Every SQL statement of the workflows domain (DESIGN §3). Rows are mapped to views in service.ts. */
import type { Db } from '../../src/db/open'
import type { ExecutionStatus } from './types'
import { toolsChanged } from '../../src/tools/workspace-tools'
import { perDb } from '../../src/db/per-db'

export interface WorkflowRow {
  id: string; owner_id: string; workspace_id: string | null; name: string; description: string; status: string; version: number
  is_template: number; trigger_type: string; trigger_config: string; variables: string; workflow_metadata: string; steps: string
  hook_secret: string | null; created_at: string; updated_at: string
}

export interface VersionRow { workflow_id: string; version: number; steps: string; trigger_type: string; trigger_config: string; variables: string; created_at: string }

export interface ExecutionRow {
  id: string; workflow_id: string; owner_id: string; version: number; status: ExecutionStatus; source: string; mode: string; input: string
  trigger_data: string; meta: string; state: string; cursor: string | null; position: number; wake_at: string | null; output: string | null
  error: string | null; error_step: string | null; started_at: string | null; finished_at: string | null; created_at: string; updated_at: string
}

export interface AttemptRow {
  execution_id: string; position: number; iteration: number; attempt: number; step_id: string; step_type: string; status: 'running' | 'success' | 'failed'
  idempotency_key: string; input: string | null; output: string | null; error: string | null; started_at: string; finished_at: string | null
}

/** How an attempt ended. */
export interface AttemptEnd { status: 'success' | 'failed'; output: string | null; error: string | null; finished_at: string }

export interface EventRow { execution_id: string; seq: number; type: string; data: string }

/**
 * Per database: the owners with an active event-triggered workflow. Every domain event asks whether it
 * triggers anything (a query per event was ~3% of a small sync run's CPU); forgotten on every workflow write
 * below. A cascade delete elsewhere leaves an owner listed, which costs one empty query, never a missed trigger.
 */
const eventOwners = new WeakMap<Db, Set<string>>()
const changed = (db: Db) => { eventOwners.delete(db); toolsChanged(db) } // active workflows with expose_as_tool are tools too

const workflowsStoreOf = (db: Db) => ({
  get: (id: string) => db.query<WorkflowRow, [string]>('SELECT * FROM workflows WHERE id = ?').get(id),
  workspaceOf: (id: string) => db.query<{ w: string | null }, [string]>('SELECT workspace_id AS w FROM workflows WHERE id = ?').get(id)?.w ?? null,
  list: (ownerId: string | null, workspaceId: string | null) => db.query<WorkflowRow, [string | null, string | null]>(
    'SELECT * FROM workflows WHERE (?1 IS NULL OR owner_id = ?1) AND (?2 IS NULL OR workspace_id = ?2) ORDER BY created_at DESC, id',
  ).all(ownerId, workspaceId),
  hasEventTriggers(ownerId: string) {
    let owners = eventOwners.get(db)
    if (!owners) {
      owners = new Set(db.query<{ o: string }, []>("SELECT DISTINCT owner_id AS o FROM workflows WHERE trigger_type = 'event' AND status = 'active'").all().map((r) => r.o))
      eventOwners.set(db, owners)
    }
    return owners.has(ownerId)
  },
  byTrigger: (ownerId: string, triggerType: string) => db.query<WorkflowRow, [string, string]>(
    "SELECT * FROM workflows WHERE owner_id = ? AND trigger_type = ? AND status = 'active'",
  ).all(ownerId, triggerType),
  insert(r: WorkflowRow) {
    db.query(`INSERT INTO workflows (id, owner_id, workspace_id, name, description, status, version, is_template, trigger_type, trigger_config, variables,
              workflow_metadata, steps, hook_secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(r.id, r.owner_id, r.workspace_id, r.name, r.description, r.status, r.version, r.is_template, r.trigger_type, r.trigger_config, r.variables,
        r.workflow_metadata, r.steps, r.hook_secret, r.created_at, r.updated_at)
    changed(db)
  },
  update(r: WorkflowRow) {
    db.query(`UPDATE workflows SET workspace_id = ?, name = ?, description = ?, status = ?, version = ?, is_template = ?, trigger_type = ?, trigger_config = ?,
              variables = ?, workflow_metadata = ?, steps = ?, hook_secret = ?, updated_at = ? WHERE id = ?`)
      .run(r.workspace_id, r.name, r.description, r.status, r.version, r.is_template, r.trigger_type, r.trigger_config, r.variables, r.workflow_metadata,
        r.steps, r.hook_secret, r.updated_at, r.id)
    changed(db)
  },
  remove(id: string) {
    db.query('DELETE FROM workflows WHERE id = ?').run(id)
    changed(db)
  },
  insertVersion(v: VersionRow) {
    db.query('INSERT INTO workflow_versions (workflow_id, version, steps, trigger_type, trigger_config, variables, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(v.workflow_id, v.version, v.steps, v.trigger_type, v.trigger_config, v.variables, v.created_at)
  },
  version: (id: string, version: number) => db.query<VersionRow, [string, number]>('SELECT * FROM workflow_versions WHERE workflow_id = ? AND version = ?').get(id, version),
  versions: (id: string) => db.query<VersionRow, [string]>('SELECT * FROM workflow_versions WHERE workflow_id = ? ORDER BY version DESC').all(id),
})

const executionsStoreOf = (db: Db) => ({
  get: (id: string) => db.query<ExecutionRow, [string]>('SELECT * FROM workflow_executions WHERE id = ?').get(id),
  status: (id: string) => db.query<{ status: ExecutionStatus }, [string]>('SELECT status FROM workflow_executions WHERE id = ?').get(id)?.status ?? null,
  list: (ownerId: string | null, workflowId: string | null, limit: number) => db.query<ExecutionRow, [string | null, string | null, number]>(
    `SELECT * FROM workflow_executions WHERE (?1 IS NULL OR owner_id = ?1) AND (?2 IS NULL OR workflow_id = ?2) ORDER BY created_at DESC, id DESC LIMIT ?3`,
  ).all(ownerId, workflowId, limit),
  unfinished: () => db.query<{ id: string }, []>("SELECT id FROM workflow_executions WHERE status IN ('queued', 'running', 'waiting') ORDER BY created_at").all(),
  insert(r: Pick<ExecutionRow, 'id' | 'workflow_id' | 'owner_id' | 'version' | 'status' | 'source' | 'mode' | 'input' | 'trigger_data' | 'meta' | 'state' | 'cursor' | 'created_at'>) {
    db.query(`INSERT INTO workflow_executions (id, workflow_id, owner_id, version, status, source, mode, input, trigger_data, meta, state, cursor, created_at, updated_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(r.id, r.workflow_id, r.owner_id, r.version, r.status, r.source, r.mode, r.input, r.trigger_data, r.meta, r.state, r.cursor, r.created_at, r.created_at)
  },
  start: (id: string, now: string) =>
    db.query("UPDATE workflow_executions SET status = 'running', started_at = coalesce(started_at, ?), wake_at = NULL, updated_at = ? WHERE id = ? AND status IN ('queued', 'running', 'waiting')").run(now, now, id),
  advance: (id: string, state: string, cursor: string | null, position: number, now: string) =>
    db.query("UPDATE workflow_executions SET state = ?, cursor = ?, position = ?, status = 'running', wake_at = NULL, updated_at = ? WHERE id = ? AND status IN ('queued', 'running', 'waiting')").run(state, cursor, position, now, id),
  wait: (id: string, wakeAt: string, now: string) =>
    db.query("UPDATE workflow_executions SET status = 'waiting', wake_at = ?, updated_at = ? WHERE id = ? AND status IN ('running', 'waiting')").run(wakeAt, now, id),
  finish: (id: string, status: ExecutionStatus, output: string | null, error: string | null, errorStep: string | null, now: string) =>
    db.query(`UPDATE workflow_executions SET status = ?, output = ?, error = ?, error_step = ?, cursor = NULL, wake_at = NULL, finished_at = ?, updated_at = ?
              WHERE id = ? AND status IN ('queued', 'running', 'waiting')`).run(status, output, error, errorStep, now, now, id).changes,
})

const attemptsStoreOf = (db: Db) => ({
  atPosition: (execId: string, position: number) => db.query<AttemptRow, [string, number]>(
    'SELECT * FROM workflow_step_attempts WHERE execution_id = ? AND position = ? ORDER BY iteration, attempt',
  ).all(execId, position),
  all: (execId: string) => db.query<AttemptRow, [string]>('SELECT * FROM workflow_step_attempts WHERE execution_id = ? ORDER BY position, iteration, attempt').all(execId),
  begin(a: Omit<AttemptRow, 'status' | 'output' | 'error' | 'finished_at'>) {
    db.query(`INSERT OR IGNORE INTO workflow_step_attempts (execution_id, position, iteration, attempt, step_id, step_type, status, idempotency_key, input, started_at)
              VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)`)
      .run(a.execution_id, a.position, a.iteration, a.attempt, a.step_id, a.step_type, a.idempotency_key, a.input, a.started_at)
  },
  /** An attempt written once, already ended (pure steps journal their begin with their end). */
  insertEnded(a: Omit<AttemptRow, 'status'> & AttemptEnd) {
    db.query(`INSERT OR IGNORE INTO workflow_step_attempts (execution_id, position, iteration, attempt, step_id, step_type, status, idempotency_key, input, output, error, started_at, finished_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(a.execution_id, a.position, a.iteration, a.attempt, a.step_id, a.step_type, a.status, a.idempotency_key, a.input, a.output, a.error, a.started_at, a.finished_at)
  },
  cancelRunning: (execId: string, now: string) =>
    db.query("UPDATE workflow_step_attempts SET status = 'failed', error = 'cancelled', finished_at = ? WHERE execution_id = ? AND status = 'running'").run(now, execId),
  end: (execId: string, position: number, iteration: number, attempt: number, status: 'success' | 'failed', output: string | null, error: string | null, now: string) =>
    db.query('UPDATE workflow_step_attempts SET status = ?, output = ?, error = ?, finished_at = ? WHERE execution_id = ? AND position = ? AND iteration = ? AND attempt = ?')
      .run(status, output, error, now, execId, position, iteration, attempt),
})

const eventsStoreOf = (db: Db) => ({
  insert: (execId: string, seq: number, type: string, data: string) =>
    db.query('INSERT INTO workflow_execution_events (execution_id, seq, type, data) VALUES (?, ?, ?, ?)').run(execId, seq, type, data),
  after: (execId: string, after: number) => db.query<EventRow, [string, number]>('SELECT * FROM workflow_execution_events WHERE execution_id = ? AND seq > ? ORDER BY seq LIMIT 500').all(execId, after),
  maxSeq: (execId: string) => db.query<{ s: number | null }, [string]>('SELECT max(seq) AS s FROM workflow_execution_events WHERE execution_id = ?').get(execId)?.s ?? 0,
  ofType: (execId: string, type: string) =>
    db.query<{ data: string }, [string, string]>('SELECT data FROM workflow_execution_events WHERE execution_id = ? AND type = ? ORDER BY seq').all(execId, type).map((r) => r.data),
})

/** Event triggers' replay after a restart: the last event seq looked at, and the events after it. */
export interface EventRowLite { id: string; seq: number; type: string; owner_id: string; data: string; created_at: string }
const CURSOR_KEY = 'workflows.event_cursor'
const triggersStoreOf = (db: Db) => ({
  cursor: () => {
    const v = db.query<{ value: string }, [string]>('SELECT value FROM meta WHERE key = ?').get(CURSOR_KEY)?.value
    return v === undefined ? null : Number(v)
  },
  setCursor: (seq: number) => db.query('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(CURSOR_KEY, String(seq)),
  maxSeq: () => db.query<{ s: number | null }, []>('SELECT max(seq) AS s FROM events').get()?.s ?? 0,
  /** types null: every type. */
  eventsAfter: (seq: number, types: string[] | null, limit: number) => db.query<EventRowLite, [number, string | null, number]>(
    'SELECT id, seq, type, owner_id, data, created_at FROM events WHERE seq > ?1 AND (?2 IS NULL OR type IN (SELECT value FROM json_each(?2))) ORDER BY seq LIMIT ?3',
  ).all(seq, types === null ? null : JSON.stringify(types), limit),
  activeEventWorkflows: () => db.query<WorkflowRow, []>("SELECT * FROM workflows WHERE trigger_type = 'event' AND status = 'active'").all(),
  hasExecutionFor: (workflowId: string, eventId: string) => !!db.query<{ x: number }, [string, string]>(
    "SELECT 1 AS x FROM workflow_executions WHERE workflow_id = ? AND source = 'event' AND json_extract(trigger_data, '$.event_id') = ? LIMIT 1",
  ).get(workflowId, eventId),
})

export const workflowsStore = perDb(workflowsStoreOf)
export const executionsStore = perDb(executionsStoreOf)
export const attemptsStore = perDb(attemptsStoreOf)
export const eventsStore = perDb(eventsStoreOf)
export const triggersStore = perDb(triggersStoreOf)
