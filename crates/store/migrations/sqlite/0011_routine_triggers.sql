-- Routines fire from Slack slash commands and from another routine's
-- completion too. SQLite cannot change a CHECK, so the table is rebuilt
-- (the documented way: create, copy, drop, rename; the deliveries'
-- reference to it follows the name).

CREATE TABLE routine_fires_0011 (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    routine_id  INTEGER NOT NULL REFERENCES routines (id),
    trigger     TEXT NOT NULL CHECK (trigger IN ('manual', 'schedule', 'webhook', 'slack', 'routine', 'replay')),
    -- A schedule's slot, a webhook's signature: a second fire with the same key is the first.
    fire_key    TEXT,
    replay_of   INTEGER REFERENCES routine_fires (id),
    dry_run     INTEGER NOT NULL DEFAULT 0,
    -- JSON: the context as built (each source's value, or why it is missing) and the deliveries.
    inputs      TEXT NOT NULL,
    prompt      TEXT NOT NULL,
    run_id      INTEGER REFERENCES runs (id),
    created_at  INTEGER NOT NULL
) STRICT;

INSERT INTO routine_fires_0011 (id, user_id, routine_id, trigger, fire_key, replay_of, dry_run, inputs, prompt, run_id, created_at)
    SELECT id, user_id, routine_id, trigger, fire_key, replay_of, dry_run, inputs, prompt, run_id, created_at FROM routine_fires;
DROP TABLE routine_fires;
ALTER TABLE routine_fires_0011 RENAME TO routine_fires;

CREATE UNIQUE INDEX routine_fires_key ON routine_fires (routine_id, fire_key) WHERE fire_key IS NOT NULL;
CREATE INDEX routine_fires_by_routine ON routine_fires (routine_id, id);
