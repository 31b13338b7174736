-- Chat conversations with the orchestrator (plugins/chat): conversations, every message of every role,
-- binary tool results kept as attachments, and each user's default provider/model.
CREATE TABLE chat_conversations (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  workspace_id TEXT REFERENCES workspaces(id) ON DELETE SET NULL,
  title TEXT,
  provider TEXT,
  model TEXT,
  system_prompt TEXT,
  message_count INTEGER NOT NULL DEFAULT 0,
  -- Increases with every change: orders "most recently updated first" within the same second.
  activity INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX chat_conversations_owner ON chat_conversations (owner_id, activity DESC);
CREATE INDEX chat_conversations_activity ON chat_conversations (activity);

-- seq orders a conversation's messages (ids are random); tool messages carry the tool_call_id they answer.
CREATE TABLE chat_messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  conversation_id TEXT NOT NULL REFERENCES chat_conversations(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'tool', 'system')),
  content TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'completed' CHECK (status IN ('completed', 'error', 'cancelled')),
  tool_calls TEXT,
  tool_call_id TEXT,
  tool_name TEXT,
  tool_arguments TEXT,
  is_error INTEGER NOT NULL DEFAULT 0,
  tokens_used INTEGER NOT NULL DEFAULT 0,
  cost_micro INTEGER NOT NULL DEFAULT 0,
  tools_called TEXT NOT NULL DEFAULT '[]',
  run_id TEXT,
  error_message TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX chat_messages_conversation ON chat_messages (conversation_id, seq);
-- Tools used earlier in a conversation stay offered: found without reading the whole history.
CREATE INDEX chat_messages_tools ON chat_messages (conversation_id, tool_name) WHERE role = 'tool';
CREATE INDEX chat_messages_run ON chat_messages (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX chat_messages_system ON chat_messages (conversation_id, seq) WHERE role = 'system';

CREATE TABLE chat_attachments (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL REFERENCES chat_messages(id) ON DELETE CASCADE,
  conversation_id TEXT NOT NULL REFERENCES chat_conversations(id) ON DELETE CASCADE,
  filename TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  data BLOB NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (message_id, filename)
);
CREATE INDEX chat_attachments_conversation ON chat_attachments (conversation_id);

CREATE TABLE chat_settings (
  owner_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  default_provider TEXT,
  default_model TEXT,
  updated_at TEXT NOT NULL
);
