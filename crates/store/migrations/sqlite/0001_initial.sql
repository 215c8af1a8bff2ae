-- Steward's first schema (SQLite). Times are INTEGER microseconds since the
-- Unix epoch, UTC. JSON is stored as TEXT. Tables are STRICT so a wrong type
-- is refused instead of silently stored.

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
) STRICT;

-- The local owner every request acts as until authentication exists.
INSERT INTO users (id, name, created_at) VALUES (1, 'local', CAST(unixepoch('subsec') * 1000000 AS INTEGER));

CREATE TABLE agents (
    id               INTEGER PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users (id),
    name             TEXT NOT NULL,
    goal             TEXT NOT NULL,
    success_criteria TEXT NOT NULL DEFAULT '[]',
    timeline         TEXT,
    status           TEXT NOT NULL CHECK (status IN ('active', 'paused', 'archived')),
    model            TEXT,
    instructions     TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX agents_live_name ON agents (user_id, name) WHERE status <> 'archived';

CREATE TABLE jobs (
    id                   INTEGER PRIMARY KEY,
    user_id              INTEGER NOT NULL REFERENCES users (id),
    queue                TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    payload              TEXT NOT NULL,
    priority             INTEGER NOT NULL,
    state                TEXT NOT NULL
                         CHECK (state IN ('blocked', 'queued', 'running', 'completed', 'dead', 'cancelled')),
    run_at               INTEGER NOT NULL,
    attempts             INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0 AND attempts <= max_attempts),
    max_attempts         INTEGER NOT NULL CHECK (max_attempts >= 1),
    timeout_ms           INTEGER NOT NULL,
    idempotency_key      TEXT,
    pending_dependencies INTEGER NOT NULL DEFAULT 0 CHECK (pending_dependencies >= 0),
    -- Set once another job depends on this one, so completing a job without
    -- dependents (the common case) skips the dependents lookup.
    has_dependents       INTEGER NOT NULL DEFAULT 0,
    lease_owner          TEXT,
    lease_expires_at     INTEGER,
    result               TEXT,
    last_error           TEXT,
    state_reason         TEXT,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    started_at           INTEGER,
    finished_at          INTEGER
) STRICT;

-- Claim order: highest priority, then earliest run_at, then oldest.
CREATE INDEX jobs_ready ON jobs (priority DESC, run_at, id) WHERE state = 'queued';
-- When the next delayed job becomes ready, so an idle worker sleeps exactly that long.
CREATE INDEX jobs_scheduled ON jobs (run_at) WHERE state = 'queued';
-- Lease expiry and per-queue running counts scan only running jobs.
CREATE INDEX jobs_running ON jobs (lease_expires_at) WHERE state = 'running';
CREATE UNIQUE INDEX jobs_idempotency_key ON jobs (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_by_state ON jobs (user_id, state);

CREATE TABLE job_dependencies (
    job_id        INTEGER NOT NULL REFERENCES jobs (id),
    depends_on_id INTEGER NOT NULL REFERENCES jobs (id),
    PRIMARY KEY (job_id, depends_on_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX job_dependencies_reverse ON job_dependencies (depends_on_id, job_id);

CREATE TABLE actions (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    agent_id      INTEGER NOT NULL REFERENCES agents (id),
    title         TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    priority      TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    mode          TEXT NOT NULL CHECK (mode IN ('interactive', 'scheduled')),
    scheduled_for INTEGER,
    state         TEXT NOT NULL
                  CHECK (state IN ('draft', 'defined', 'scheduled', 'in_progress', 'completed', 'failed', 'dismissed')),
    state_reason  TEXT,
    job_id        INTEGER REFERENCES jobs (id),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX actions_by_agent ON actions (user_id, agent_id, state);

-- Agent runs; filled in by the agent runtime.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    agent_id    INTEGER NOT NULL REFERENCES agents (id),
    action_id   INTEGER REFERENCES actions (id),
    job_id      INTEGER REFERENCES jobs (id),
    status      TEXT NOT NULL,
    outcome     TEXT,
    instruction TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER
) STRICT;

CREATE INDEX runs_by_agent ON runs (user_id, agent_id, id);

-- The append-only event log. AUTOINCREMENT: ids are never reused, even after
-- old events are pruned, so a reader's cursor stays valid.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL,
    occurred_at INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    subject_id  INTEGER NOT NULL,
    data        TEXT NOT NULL
) STRICT;

CREATE INDEX events_by_subject ON events (subject, subject_id, id);
