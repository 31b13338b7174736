-- Issue 11 item 2: a bot account minted by a workspace token is bound to that workspace (its key reaches
-- nothing else). NULL: an owner-wide account, as before.
ALTER TABLE bot_accounts ADD COLUMN workspace_id TEXT REFERENCES workspaces(id) ON DELETE CASCADE;
CREATE INDEX bot_accounts_workspace ON bot_accounts(workspace_id) WHERE workspace_id IS NOT NULL;
