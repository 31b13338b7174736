-- Issue 11 (security): credential reach and reply resends.
-- Issue 11 item 2: a bot account minted by a workspace token is bound to that workspace (its key reaches
-- nothing else). NULL: an owner-wide account, as before.
ALTER TABLE bot_accounts ADD COLUMN workspace_id TEXT REFERENCES workspaces(id) ON DELETE CASCADE;
CREATE INDEX bot_accounts_workspace ON bot_accounts(workspace_id) WHERE workspace_id IS NOT NULL;

-- Issue 11 item 12: a reply the platform needs in several messages is sent message by message, each marked before
-- its call and recorded with what the platform returned after it; a restart resumes after the last confirmed one.
ALTER TABLE channel_inbox ADD COLUMN sent_parts INTEGER NOT NULL DEFAULT 0;  -- messages the platform confirmed
ALTER TABLE channel_inbox ADD COLUMN sending_part INTEGER;                  -- the message in flight (NULL: none)
ALTER TABLE channel_inbox ADD COLUMN platform_ids TEXT;                     -- JSON array: the platform's id per confirmed message
