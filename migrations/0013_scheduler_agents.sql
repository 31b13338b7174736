-- The persisted scheduler (DESIGN §13): schedules with their next slot, fires under a unique
-- (schedule, slot) key, one lease row with a fencing token; and the scheduled agents built on it.
CREATE TABLE schedules (
  id TEXT PRIMARY KEY,                      -- sch_ (sjob_ for system jobs)
  name TEXT NOT NULL UNIQUE,                -- agent:<agt_id> or system:<job>
  handler TEXT NOT NULL,                    -- the registered handler that runs its fires
  target_id TEXT,                           -- the handler's subject (an agent id)
  owner_id TEXT REFERENCES users(id) ON DELETE CASCADE,  -- NULL for system jobs
  system INTEGER NOT NULL DEFAULT 0,
  type TEXT NOT NULL CHECK (type IN ('interval', 'cron')),
  interval_ms INTEGER,
  cron TEXT,
  timezone TEXT NOT NULL DEFAULT 'UTC',
  start_at INTEGER,                         -- epoch ms, inclusive
  end_at INTEGER,                           -- epoch ms, exclusive
  jitter_ms INTEGER NOT NULL DEFAULT 0,
  overlap_policy TEXT NOT NULL DEFAULT 'skip',
  catchup_policy TEXT NOT NULL DEFAULT 'latest',
  catchup_window_ms INTEGER,
  pause_after_failures INTEGER,
  anchor_ms INTEGER NOT NULL,               -- interval slots count from here when start_at is unset
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'ended')),
  paused_reason TEXT,                       -- user | failures
  next_slot INTEGER,                        -- epoch ms of the first slot not yet handled
  next_run_at INTEGER,                      -- next_slot plus its jitter: when the timer wakes for it
  fire_count INTEGER NOT NULL DEFAULT 0,
  missed_count INTEGER NOT NULL DEFAULT 0,
  skipped_count INTEGER NOT NULL DEFAULT 0,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  last_slot INTEGER,
  last_fire_at INTEGER,
  last_finished_at INTEGER,                 -- system jobs always; others when the outcome changes
  last_status TEXT,
  last_error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX schedules_due ON schedules(next_run_at) WHERE status = 'active';

-- One row per slot ever handled; the primary key is the at-most-once guarantee. Slot first: the fires of a
-- tick append at the end of the table instead of touching one random page per schedule.
CREATE TABLE schedule_fires (
  schedule_id TEXT NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
  slot INTEGER NOT NULL,                    -- epoch ms of the slot (manual runs: the time asked)
  kind TEXT NOT NULL CHECK (kind IN ('scheduled', 'catchup', 'manual')),
  status TEXT NOT NULL CHECK (status IN ('buffered', 'running', 'succeeded', 'failed', 'skipped', 'cancelled', 'interrupted')),
  token INTEGER,                            -- the lease's fencing token it started under
  input TEXT,                               -- JSON input of a manual run
  queued_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  error TEXT,
  PRIMARY KEY (slot, schedule_id)
) WITHOUT ROWID;
CREATE INDEX schedule_fires_open ON schedule_fires(schedule_id, slot) WHERE status IN ('buffered', 'running');
-- Fire history by schedule for the system jobs only (GET /api/admin/jobs): an index over every fire would
-- cost a random page write per fire.
CREATE INDEX schedule_fires_system ON schedule_fires(schedule_id, slot) WHERE schedule_id LIKE 'sjob%';


CREATE TABLE scheduler_lease (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  holder TEXT NOT NULL,                     -- host:pid:random of the process that fires
  token INTEGER NOT NULL,                   -- fencing token, +1 on every change of holder
  expires_at INTEGER NOT NULL
);

CREATE TABLE agents (
  id TEXT PRIMARY KEY,                      -- agt_
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  workflow_id TEXT NOT NULL,
  workflow_name TEXT NOT NULL,
  agent_config TEXT NOT NULL DEFAULT '{}',  -- JSON overrides
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
  schedule_config TEXT,                     -- JSON as given (normalised), NULL until scheduled
  schedule_id TEXT REFERENCES schedules(id) ON DELETE SET NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX agents_owner ON agents(owner_id, created_at);

CREATE TABLE agent_runs (
  id TEXT PRIMARY KEY,                      -- arun_ (time ordered)
  agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  owner_id TEXT NOT NULL,
  trigger TEXT NOT NULL CHECK (trigger IN ('scheduled', 'catchup', 'manual')),
  slot INTEGER,
  status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
  execution_id TEXT,                        -- the workflow execution it ran as
  input TEXT,
  output TEXT,
  error TEXT,
  tokens INTEGER NOT NULL DEFAULT 0,
  cost_cents REAL NOT NULL DEFAULT 0,
  duration_ms INTEGER,
  started_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX agent_runs_agent ON agent_runs(agent_id, started_at);
CREATE INDEX agent_runs_open ON agent_runs(status) WHERE status = 'running';
