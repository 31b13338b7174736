-- GET /api/runs: one owner's runs across every source, newest first (cursor on created_at, id).
CREATE INDEX runs_owner_created ON runs(owner_id, created_at, id);
-- The model a run used (the list shows it); NULL for runs recorded before.
ALTER TABLE runs ADD COLUMN model TEXT;
