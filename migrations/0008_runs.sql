-- One runs table for every surface (DESIGN §12): endpoint runs move here; bots, chat, workflows,
-- schedules, /v1 tasks, the OpenAI-compatible API and the MCP server record their runs here too.
CREATE TABLE runs (
  id TEXT PRIMARY KEY,                                   -- run_
  source TEXT NOT NULL CHECK (source IN ('endpoint', 'bot', 'chat', 'workflow', 'schedule', 'task', 'openai', 'mcp')),
  source_id TEXT,                                        -- the endpoint, bot, conversation... that started it
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  workspace_id TEXT REFERENCES workspaces(id) ON DELETE CASCADE,
  mode TEXT NOT NULL CHECK (mode IN ('sync', 'stream', 'async', 'test')),
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'success', 'error', 'cancelled', 'test')),
  input TEXT NOT NULL,
  output TEXT,                                           -- the text, or the JSON text when output_parsed = 1
  output_parsed INTEGER NOT NULL DEFAULT 0,
  raw_output TEXT,
  tool_calls TEXT NOT NULL DEFAULT '[]',                 -- JSON [{ tool, success, latency_ms }]
  tokens_input INTEGER NOT NULL DEFAULT 0,
  tokens_output INTEGER NOT NULL DEFAULT 0,
  iterations INTEGER NOT NULL DEFAULT 0,
  cost_micro INTEGER NOT NULL DEFAULT 0,                 -- LLM cost + price per run, micro-cents
  charged_micro INTEGER NOT NULL DEFAULT 0,              -- what was debited from the owner's wallet
  latency_ms INTEGER NOT NULL DEFAULT 0,
  caller TEXT,                                           -- who asked: client IP, "dashboard", a user id
  error TEXT,
  error_code TEXT,
  error_status INTEGER,
  callback_url TEXT,
  callback_status TEXT CHECK (callback_status IN ('pending', 'delivered', 'failed')),
  callback_attempts INTEGER NOT NULL DEFAULT 0,
  callback_last_status INTEGER,
  meta TEXT NOT NULL DEFAULT '{}',                       -- surface-specific JSON (on_disconnect, inbox item, ...)
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT
);
CREATE INDEX runs_source ON runs(source, source_id, created_at);
CREATE INDEX runs_unfinished ON runs(status, created_at) WHERE status IN ('queued', 'running');
CREATE INDEX runs_callbacks ON runs(callback_status) WHERE callback_status = 'pending';

-- Every recorded event of a run (async, streamed, re-joinable): GET /api/runs/:id/events replays and resumes (Last-Event-ID = seq).
CREATE TABLE run_events (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

INSERT INTO runs (id, source, source_id, owner_id, workspace_id, mode, status, input, output, output_parsed, raw_output, tool_calls,
  tokens_input, tokens_output, iterations, cost_micro, charged_micro, latency_ms, caller, error, error_code, error_status, callback_url,
  callback_status, callback_attempts, callback_last_status, meta, created_at, started_at, finished_at)
SELECT r.id, 'endpoint', r.endpoint_id, r.owner_id, e.workspace_id, r.mode, r.status, r.input, r.output, r.output_parsed, r.raw_output, r.tool_calls,
  r.tokens_input, r.tokens_output, r.iterations, r.cost_micro, r.charged_micro, r.latency_ms, r.caller_ip, r.error, r.error_code, r.error_status,
  r.callback_url, r.callback_status, r.callback_attempts, r.callback_last_status, '{}', r.created_at, r.started_at, r.finished_at
FROM endpoint_runs r JOIN agent_endpoints e ON e.id = r.endpoint_id ORDER BY r.rowid;
INSERT INTO run_events (run_id, seq, type, data, created_at) SELECT run_id, seq, type, data, created_at FROM endpoint_run_events;
DROP TABLE endpoint_run_events;
DROP TABLE endpoint_runs;

-- An endpoint's run history goes with it (the runs table knows no surface, so no foreign key can say so).
CREATE TRIGGER agent_endpoints_delete_runs AFTER DELETE ON agent_endpoints
BEGIN
  DELETE FROM runs WHERE source = 'endpoint' AND source_id = OLD.id;
END;
CREATE TRIGGER bots_delete_runs AFTER DELETE ON bots
BEGIN
  DELETE FROM runs WHERE source = 'bot' AND source_id = OLD.id;
END;

-- Async callbacks are signed per Standard Webhooks with a per-endpoint `whsec_` secret (shown on create and
-- regenerate-key). Endpoints created before this have none until their key is regenerated.
ALTER TABLE agent_endpoints ADD COLUMN callback_secret_sealed TEXT;
