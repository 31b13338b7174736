-- Reach (issue 15): per-agent tool allow-lists, /v1 tasks, the usage rollup, monthly invoices.

-- JSON array of skills (tool names, mcp_ server ids, con_ connection ids); NULL = every workspace tool.
ALTER TABLE bots ADD COLUMN tools TEXT;
ALTER TABLE agent_endpoints ADD COLUMN tools TEXT;

-- A message sent to an agent through /v1 and the task (run) it started. States follow A2A.
CREATE TABLE v1_tasks (
  id TEXT PRIMARY KEY,                  -- task_, time-ordered (the cursor)
  message_id TEXT NOT NULL UNIQUE,      -- msg_
  agent_id TEXT NOT NULL,               -- bt_ or aep_
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  workspace_id TEXT,
  token_id TEXT,
  state TEXT NOT NULL CHECK (state IN ('submitted', 'working', 'completed', 'failed', 'canceled')),
  content TEXT NOT NULL,
  channel TEXT NOT NULL,
  metadata TEXT,
  output TEXT,
  error TEXT,
  error_code TEXT,
  run_id TEXT,
  tokens_input INTEGER NOT NULL DEFAULT 0,
  tokens_output INTEGER NOT NULL DEFAULT 0,
  cost_micro INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  completed_at TEXT
);
CREATE INDEX v1_tasks_agent ON v1_tasks(agent_id, id);
CREATE INDEX v1_tasks_unfinished ON v1_tasks(state) WHERE state IN ('submitted', 'working');

-- Usage per hour and per day, and per dimension, maintained as runs finish (GET /v1/analytics/usage reads only
-- this). A month of one owner's usage by day is a few hundred rows whatever the number of runs.
CREATE TABLE usage_rollup (
  owner_id TEXT NOT NULL,
  dim TEXT NOT NULL CHECK (dim IN ('agent', 'model', 'channel', 'token')),
  grain TEXT NOT NULL CHECK (grain IN ('hour', 'day')),
  bucket TEXT NOT NULL,                 -- 2026-03-14T10:00:00Z (hour) or 2026-03-14T00:00:00Z (day)
  workspace_id TEXT NOT NULL DEFAULT '',
  key TEXT NOT NULL,
  runs INTEGER NOT NULL DEFAULT 0,
  tokens_input INTEGER NOT NULL DEFAULT 0,
  tokens_output INTEGER NOT NULL DEFAULT 0,
  cost_micro INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (owner_id, dim, grain, bucket, key, workspace_id)
) WITHOUT ROWID;

-- One invoice per user and calendar month, from the wallet ledger's debits.
CREATE TABLE invoices (
  id TEXT PRIMARY KEY,                  -- inv_
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  period TEXT NOT NULL,                 -- 2026-03
  total_micro INTEGER NOT NULL,
  lines TEXT NOT NULL,                  -- JSON [{ reason, count, amount_micro }]
  created_at TEXT NOT NULL,
  UNIQUE (user_id, period)
);
