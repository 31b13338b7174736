-- Why a schedule's last fire was skipped (the overlap policy, or a handler's refusal such as an agent's spent
-- daily cost budget) and when: shown in the agent's status next to skipped_count.
ALTER TABLE schedules ADD COLUMN last_skip_reason TEXT;
ALTER TABLE schedules ADD COLUMN last_skipped_at INTEGER;
