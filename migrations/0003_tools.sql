-- Tools: MCP servers per workspace, platform connections per user, and the tool-call audit log.

CREATE TABLE mcp_servers (
  id TEXT PRIMARY KEY,                       -- mcp_
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  slug TEXT NOT NULL,                        -- prefix of the tool names exposed to models
  transport TEXT NOT NULL CHECK (transport IN ('http', 'stdio')),
  url TEXT,                                  -- http
  command TEXT,                              -- stdio
  args TEXT NOT NULL DEFAULT '[]',           -- stdio, JSON array
  headers_sealed TEXT,                       -- http headers, sealed JSON object (secrets)
  header_names TEXT NOT NULL DEFAULT '[]',
  env_sealed TEXT,                           -- stdio env, sealed JSON object (secrets)
  env_names TEXT NOT NULL DEFAULT '[]',
  enabled INTEGER NOT NULL DEFAULT 1,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'connected', 'error')),
  error_message TEXT,
  tools TEXT NOT NULL DEFAULT '[]',          -- cached tools/list: [{ name, description, inputSchema }]
  tools_refreshed_at TEXT,
  rev INTEGER NOT NULL DEFAULT 1,            -- bumped on every connection-relevant change (pool fingerprint)
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (workspace_id, slug)
);
CREATE INDEX mcp_servers_workspace ON mcp_servers(workspace_id);

CREATE TABLE connections (
  id TEXT PRIMARY KEY,                       -- con_
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  platform TEXT NOT NULL,
  name TEXT NOT NULL,
  slug TEXT NOT NULL,
  config_sealed TEXT NOT NULL,               -- sealed JSON; never returned
  config_fields TEXT NOT NULL DEFAULT '[]',  -- names of the fields that are set (for has_* flags)
  status TEXT NOT NULL CHECK (status IN ('active', 'error', 'expired', 'disabled')),
  error_message TEXT,
  account TEXT,                              -- JSON: non-secret identity from the platform (team, login, bot name)
  tools TEXT NOT NULL DEFAULT '[]',          -- mcp connections: cached remote tools
  rev INTEGER NOT NULL DEFAULT 1,            -- bumped when the config changes (MCP pool fingerprint)
  last_tested_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX connections_owner ON connections(owner_id, created_at);

-- Every tool call (API or agent). Arguments and results are truncated and redacted before storage.
CREATE TABLE tool_calls (
  id TEXT PRIMARY KEY,                       -- tcall_
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  workspace_id TEXT,
  actor TEXT,                                -- who made the call: usr_..., tok_..., bacc_...
  surface TEXT NOT NULL,                     -- api, bot, endpoint, chat, workflow, agent
  run_id TEXT,
  tool TEXT NOT NULL,
  source TEXT,                               -- builtin, mcp:<id>, connection:<id>
  success INTEGER NOT NULL,
  latency_ms INTEGER NOT NULL,
  error TEXT,
  arguments TEXT,
  result TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX tool_calls_owner ON tool_calls(owner_id, created_at);
CREATE INDEX tool_calls_owner_tool ON tool_calls(owner_id, tool, created_at);
