-- Bot accounts (machine identities with their own key), their memory, outbound webhooks and deliveries.
CREATE TABLE bot_accounts (
  id TEXT PRIMARY KEY,                      -- bacc_
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  slug TEXT NOT NULL UNIQUE,
  description TEXT,
  avatar_url TEXT,
  scopes TEXT NOT NULL,                     -- JSON array of scope names
  is_active INTEGER NOT NULL DEFAULT 1,
  rate_limit_rpm INTEGER NOT NULL DEFAULT 60,
  key_hash TEXT NOT NULL UNIQUE,            -- SHA-256 hex of the whole bot_ key
  key_prefix TEXT NOT NULL,                 -- first characters, for recognising the key
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX bot_accounts_owner ON bot_accounts(owner_id, created_at);

CREATE TABLE bot_memory (
  bot_account_id TEXT NOT NULL REFERENCES bot_accounts(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,                      -- JSON, at most 64 KB
  updated_at TEXT NOT NULL,
  PRIMARY KEY (bot_account_id, key)
) WITHOUT ROWID;

CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,                      -- wh_
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  bot_account_id TEXT REFERENCES bot_accounts(id) ON DELETE CASCADE,  -- NULL: the owner's own webhook
  url TEXT NOT NULL,
  events TEXT NOT NULL,                     -- JSON array of event types, or ["*"]
  secret TEXT NOT NULL,                     -- sealed whsec_ secret
  description TEXT,
  enabled INTEGER NOT NULL DEFAULT 1,
  disabled_reason TEXT,
  failing_since TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX webhooks_owner ON webhooks(owner_id, bot_account_id);

-- Deliveries are written twice per attempt on the hot path (dispatch, result), so the schema is kept
-- lean: an INTEGER PRIMARY KEY (the attempt log and the queue refer to it), the whd_ id as a unique
-- column (looked up by the API and the manual retry), the partial due index, and the per-webhook index
-- on webhook_id alone (rowid order within it is insertion order: newest first without a sort).
CREATE TABLE webhook_deliveries (
  rid INTEGER PRIMARY KEY,                  -- the row's id; attempts refer to it
  id TEXT NOT NULL UNIQUE,                  -- whd_ (also the webhook-id header: stable across retries)
  webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_id TEXT NOT NULL,                   -- dispatched once: events are marked in the same transaction
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,                    -- the exact JSON body sent on every attempt
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'success', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,      -- all attempts ever made
  cycle_attempts INTEGER NOT NULL DEFAULT 0, -- attempts since creation or the last manual retry (drives the schedule)
  next_attempt_at TEXT,                     -- ISO with milliseconds; NULL once final
  last_status INTEGER,
  last_latency_ms INTEGER,
  last_error TEXT,
  delivered_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id);

-- One row per attempt, clustered by (delivery, attempt): a single small b-tree, appended in order.
CREATE TABLE webhook_delivery_attempts (
  delivery INTEGER NOT NULL REFERENCES webhook_deliveries(rid) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  status INTEGER,                           -- HTTP status, NULL when no response
  latency_ms INTEGER NOT NULL,
  response_excerpt TEXT,
  error TEXT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (delivery, attempt)
) WITHOUT ROWID;
