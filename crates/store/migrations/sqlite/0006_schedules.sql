-- Schedules (issue #10): a *when* in a time zone, policies and a target,
-- and one row per slot each schedule recorded (its fires).

CREATE TABLE schedules (
    id                   INTEGER PRIMARY KEY,
    user_id              INTEGER NOT NULL REFERENCES users (id),
    name                 TEXT NOT NULL,
    -- The canonical text of the *when*, and an IANA zone name.
    when_text            TEXT NOT NULL,
    zone                 TEXT NOT NULL,
    target_kind          TEXT NOT NULL CHECK (target_kind IN ('agent', 'action', 'routine', 'job')),
    agent_id             INTEGER REFERENCES agents (id),
    action_id            INTEGER REFERENCES actions (id),
    instruction          TEXT,
    routine              TEXT,
    job_kind             TEXT,
    payload              TEXT,
    -- `catch_up_once`, `skip` or `run_all:N`.
    missed_policy        TEXT NOT NULL,
    catchup_window_secs  INTEGER NOT NULL CHECK (catchup_window_secs > 0),
    overlap_policy       TEXT NOT NULL
                         CHECK (overlap_policy IN ('skip', 'buffer_one', 'buffer_all', 'cancel_running', 'allow')),
    jitter_ms            INTEGER NOT NULL DEFAULT 0 CHECK (jitter_ms >= 0),
    pause_on_failures    INTEGER CHECK (pause_on_failures > 0),
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    paused               INTEGER NOT NULL DEFAULT 0,
    -- A JSON object (`domain::schedule::Precondition`), and what it saw last.
    precondition         TEXT,
    precondition_state   TEXT,
    -- Slots up to here are fired or recorded; the next one, and when it
    -- fires (the slot plus its jitter). NULL: it never fires again.
    handled_through_at   INTEGER NOT NULL,
    next_slot_at         INTEGER,
    next_fire_at         INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX schedules_name ON schedules (user_id, lower(name));
-- The firing loop's question: which schedule fires next.
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE paused = 0 AND next_fire_at IS NOT NULL;

CREATE TABLE schedule_fires (
    id          INTEGER PRIMARY KEY,
    schedule_id INTEGER NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    -- Each slot is recorded once: what makes a slot fire at most once.
    slot_at     INTEGER NOT NULL,
    fired_at    INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('fired', 'skipped', 'missed', 'coalesced', 'buffered',
                                                'skipped_no_change', 'manual', 'backfilled')),
    job_id      INTEGER REFERENCES jobs (id),
    run_id      INTEGER REFERENCES runs (id),
    outcome     TEXT CHECK (outcome IN ('completed', 'failed', 'cancelled')),
    detail      TEXT,
    UNIQUE (schedule_id, slot_at)
) STRICT;

-- Fires whose work has not been seen to end.
CREATE INDEX schedule_fires_unsettled ON schedule_fires (schedule_id) WHERE outcome IS NULL AND job_id IS NOT NULL;
CREATE INDEX schedule_fires_buffered ON schedule_fires (schedule_id, slot_at) WHERE status = 'buffered';
