import type { Db } from '../../src/db/open'

/** Every SQL statement of the agents domain. */

export interface AgentRow {
  id: string; owner_id: string; workflow_id: string; workflow_name: string; agent_config: string; status: 'active' | 'paused'
  schedule_config: string | null; schedule_id: string | null; created_at: string; updated_at: string
}

export interface RunRow {
  id: string; agent_id: string; owner_id: string; trigger: 'scheduled' | 'catchup' | 'manual'; slot: number | null
  status: 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted'; execution_id: string | null; input: string | null; output: string | null
  error: string | null; tokens: number; cost_cents: number; duration_ms: number | null; started_at: string; finished_at: string | null
}

export const get = (db: Db, id: string) => db.query<AgentRow, [string]>('SELECT * FROM agents WHERE id = ?').get(id)
export const listOwned = (db: Db, ownerId: string) => db.query<AgentRow, [string]>('SELECT * FROM agents WHERE owner_id = ? ORDER BY created_at DESC, id').all(ownerId)

export const list = (db: Db, ownerId: string | null) =>
  db.query<AgentRow, [string | null]>('SELECT * FROM agents WHERE ?1 IS NULL OR owner_id = ?1 ORDER BY created_at DESC, id').all(ownerId)

export function insert(db: Db, r: AgentRow) {
  db.query('INSERT INTO agents (id, owner_id, workflow_id, workflow_name, agent_config, status, schedule_config, schedule_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .run(r.id, r.owner_id, r.workflow_id, r.workflow_name, r.agent_config, r.status, r.schedule_config, r.schedule_id, r.created_at, r.updated_at)
}

export const setSchedule = (db: Db, id: string, config: string, scheduleId: string, now: string) =>
  db.query('UPDATE agents SET schedule_config = ?, schedule_id = ?, updated_at = ? WHERE id = ?').run(config, scheduleId, now, id)
export const setStatus = (db: Db, id: string, status: 'active' | 'paused', now: string) =>
  db.query('UPDATE agents SET status = ?, updated_at = ? WHERE id = ?').run(status, now, id)
export const remove = (db: Db, id: string) => db.query('DELETE FROM agents WHERE id = ?').run(id)

// Runs

export function insertRun(db: Db, r: Pick<RunRow, 'id' | 'agent_id' | 'owner_id' | 'trigger' | 'slot' | 'input' | 'started_at'>) {
  db.query("INSERT INTO agent_runs (id, agent_id, owner_id, trigger, slot, status, input, started_at) VALUES (?, ?, ?, ?, ?, 'running', ?, ?)")
    .run(r.id, r.agent_id, r.owner_id, r.trigger, r.slot, r.input, r.started_at)
}

/** Ends a running run; false when it had ended already (its outcome and event are recorded once). */
export function finishRun(db: Db, id: string, v: { status: RunRow['status']; execution_id: string | null; output: string | null; error: string | null; tokens: number; cost_cents: number; duration_ms: number; finished_at: string }) {
  return db.query("UPDATE agent_runs SET status = ?, execution_id = coalesce(?, execution_id), output = ?, error = ?, tokens = ?, cost_cents = ?, duration_ms = ?, finished_at = ? WHERE id = ? AND status = 'running'")
    .run(v.status, v.execution_id, v.output, v.error, v.tokens, v.cost_cents, v.duration_ms, v.finished_at, id).changes === 1
}

/** The execution a run goes on as, recorded with the execution itself (a restart follows it from here). */
export const setRunExecution = (db: Db, id: string, executionId: string) =>
  db.query('UPDATE agent_runs SET execution_id = ? WHERE id = ?').run(executionId, id)

/** Cost of the agent's runs started since `since` (ISO; the current UTC day for the daily budget). */
export const spentSince = (db: Db, agentId: string, since: string) =>
  db.query<{ c: number }, [string, string]>('SELECT coalesce(sum(cost_cents), 0) AS c FROM agent_runs WHERE agent_id = ? AND started_at >= ?').get(agentId, since)!.c

export const getRun = (db: Db, id: string) => db.query<RunRow, [string]>('SELECT * FROM agent_runs WHERE id = ?').get(id)
export const runBySlot = (db: Db, agentId: string, slot: number) =>
  db.query<RunRow, [string, number]>('SELECT * FROM agent_runs WHERE agent_id = ? AND slot = ? ORDER BY started_at DESC LIMIT 1').get(agentId, slot)

/** Runs that were going when the process stopped (start-up: each is followed or interrupted). */
export const openRuns = (db: Db) => db.query<RunRow, []>("SELECT * FROM agent_runs WHERE status = 'running' ORDER BY started_at").all()

/** A run whose execution cannot go on (none was created, or it was cancelled): interrupted, and so is its fire. */
export const interruptRun = (db: Db, id: string, now: string) =>
  db.query("UPDATE agent_runs SET status = 'interrupted', error = 'The process stopped during this run', finished_at = ? WHERE id = ? AND status = 'running'").run(now, id).changes

export interface Totals { n: number; ok: number; failed: number; tokens: number; cost: number; running: number; last_run_at: string | null }
export const totals = (db: Db, agentId: string) => db.query<Totals, [string]>(`
  SELECT count(*) AS n, coalesce(sum(status = 'succeeded'), 0) AS ok, coalesce(sum(status IN ('failed', 'interrupted', 'cancelled')), 0) AS failed,
         coalesce(sum(tokens), 0) AS tokens, coalesce(sum(cost_cents), 0) AS cost, coalesce(sum(status = 'running'), 0) AS running, max(started_at) AS last_run_at
  FROM agent_runs WHERE agent_id = ?`).get(agentId)!

export const lastError = (db: Db, agentId: string) =>
  db.query<{ error: string }, [string]>("SELECT error FROM agent_runs WHERE agent_id = ? AND error IS NOT NULL AND status <> 'running' ORDER BY started_at DESC, id DESC LIMIT 1").get(agentId)?.error ?? null

/** Durations of the newest finished runs, ascending (percentiles). */
export const durations = (db: Db, agentId: string, limit = 1000) =>
  db.query<{ d: number }, [string, number]>("SELECT d FROM (SELECT duration_ms AS d FROM agent_runs WHERE agent_id = ? AND duration_ms IS NOT NULL ORDER BY started_at DESC LIMIT ?) ORDER BY d").all(agentId, limit).map((r) => r.d)

export const perDay = (db: Db, agentId: string, since: string) => db.query<{ date: string; executions: number; succeeded: number; failed: number }, [string, string]>(`
  SELECT substr(started_at, 1, 10) AS date, count(*) AS executions, sum(status = 'succeeded') AS succeeded, sum(status IN ('failed', 'interrupted', 'cancelled')) AS failed
  FROM agent_runs WHERE agent_id = ? AND started_at >= ? GROUP BY date ORDER BY date`).all(agentId, since)

export const commonErrors = (db: Db, agentId: string, limit = 5) => db.query<{ error: string; count: number }, [string, number]>(`
  SELECT error, count(*) AS count FROM agent_runs WHERE agent_id = ? AND error IS NOT NULL GROUP BY error ORDER BY count DESC, error LIMIT ?`).all(agentId, limit)
