-- Memory (issue #14): the conversation or session an episode is a turn of,
-- so search can read a matching turn's neighbours as its context.
ALTER TABLE memory_episodes ADD COLUMN thread TEXT;

CREATE INDEX memory_episodes_by_thread ON memory_episodes (user_id, thread, reference_at, id)
    WHERE thread IS NOT NULL;
