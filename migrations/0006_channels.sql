-- Channels (issue 6): the durable inbox of verified platform deliveries.
-- A delivery is acknowledged only after its row is committed (group commit); a worker answers it.
-- Arrival order is the integer id; one conversation (bot + conversation_key) is answered one at a time.
CREATE TABLE channel_inbox (
  id INTEGER PRIMARY KEY,                 -- arrival order
  bot_id TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
  platform TEXT NOT NULL,
  dedupe_key TEXT NOT NULL,               -- update:<update_id> | interaction:<id> | message:<wamid> | message:<channel>:<ts>
  conversation_key TEXT NOT NULL,         -- the platform chat (Telegram chat id, Discord channel, WhatsApp sender, Slack channel)
  payload TEXT NOT NULL,                  -- JSON: the normalized message and what the reply needs
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  received_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  conversation_id TEXT,                   -- bot_conversations.id once answered
  reply TEXT,                             -- JSON array of the texts to send, stored before sending
  replied_at TEXT,
  error TEXT,
  UNIQUE (bot_id, dedupe_key)
);
CREATE INDEX channel_inbox_open ON channel_inbox(status, id) WHERE status IN ('pending', 'processing');
CREATE INDEX channel_inbox_finished ON channel_inbox(finished_at) WHERE finished_at IS NOT NULL;
