-- Workflows (issue 13): definitions, immutable versions, executions pinned to a version, a step-attempt journal,
-- recorded execution events (SSE resume).
CREATE TABLE workflows (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  workspace_id TEXT REFERENCES workspaces(id) ON DELETE SET NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'paused', 'archived')),
  version INTEGER NOT NULL DEFAULT 1,
  is_template INTEGER NOT NULL DEFAULT 0,
  trigger_type TEXT NOT NULL DEFAULT 'manual' CHECK (trigger_type IN ('manual', 'schedule', 'webhook', 'event')),
  trigger_config TEXT NOT NULL DEFAULT '{}',
  variables TEXT NOT NULL DEFAULT '{}',
  workflow_metadata TEXT NOT NULL DEFAULT '{}',
  steps TEXT NOT NULL DEFAULT '[]',
  hook_secret TEXT,                          -- encrypted; webhook trigger only
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX workflows_owner ON workflows (owner_id, created_at);
CREATE INDEX workflows_event_trigger ON workflows (trigger_type, status);

-- Every change of steps, trigger or variables makes a new row; executions point at one.
CREATE TABLE workflow_versions (
  workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  steps TEXT NOT NULL,
  trigger_type TEXT NOT NULL,
  trigger_config TEXT NOT NULL,
  variables TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (workflow_id, version)
) WITHOUT ROWID;

CREATE TABLE workflow_executions (
  id TEXT PRIMARY KEY,
  workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
  owner_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'waiting', 'success', 'failed', 'cancelled')),
  source TEXT NOT NULL DEFAULT 'manual',     -- manual | webhook | event | schedule | bot | chat
  mode TEXT NOT NULL DEFAULT 'sync',
  input TEXT NOT NULL DEFAULT '{}',
  trigger_data TEXT NOT NULL DEFAULT '{}',
  meta TEXT NOT NULL DEFAULT '{}',
  state TEXT NOT NULL DEFAULT '{}',          -- step outputs so far (the `steps` root)
  cursor TEXT,                               -- id of the step to run next (null: finished)
  position INTEGER NOT NULL DEFAULT 0,       -- how many steps have been entered (a step visited twice gets two positions)
  wake_at TEXT,                              -- a persisted delay or retry back-off
  output TEXT,
  error TEXT,
  error_step TEXT,
  started_at TEXT,
  finished_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX workflow_executions_wf ON workflow_executions (workflow_id, created_at);
CREATE INDEX workflow_executions_owner ON workflow_executions (owner_id, created_at);
CREATE INDEX workflow_executions_unfinished ON workflow_executions (status) WHERE status IN ('queued', 'running', 'waiting');

-- The journal: one row per attempt (per loop iteration), written when it starts and updated in the
-- transaction that ends it. An attempt still 'running' after a crash is sent again under the same key.
CREATE TABLE workflow_step_attempts (
  execution_id TEXT NOT NULL REFERENCES workflow_executions(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  iteration INTEGER NOT NULL DEFAULT -1,     -- -1 for a plain step, 0.. for loop items
  attempt INTEGER NOT NULL,
  step_id TEXT NOT NULL,
  step_type TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'success', 'failed')),
  idempotency_key TEXT NOT NULL,
  input TEXT,
  output TEXT,
  error TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  PRIMARY KEY (execution_id, position, iteration, attempt)
) WITHOUT ROWID;

CREATE TABLE workflow_execution_events (
  execution_id TEXT NOT NULL REFERENCES workflow_executions(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (execution_id, seq)
) WITHOUT ROWID;
