-- Routines (issue #13): a trigger, an agent, a prompt template, context
-- sources and deliveries; each firing is recorded with the inputs it had,
-- and each destination's copy of the output is a delivery, sent once.

CREATE TABLE routines (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    name        TEXT NOT NULL,
    agent_id    INTEGER NOT NULL REFERENCES agents (id),
    -- A minijinja template; the context sources are its variables.
    template    TEXT NOT NULL,
    -- JSON: the context sources (calendar, actions, priorities, summaries).
    sources     TEXT NOT NULL,
    -- JSON array of destination URIs.
    deliveries  TEXT NOT NULL,
    -- The IANA zone the routine's day is read in.
    zone        TEXT NOT NULL,
    -- What fires it besides a person: NULL, or 'schedule:<name>'.
    trigger     TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX routines_name ON routines (user_id, lower(name));

CREATE TABLE routine_fires (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    routine_id  INTEGER NOT NULL REFERENCES routines (id),
    trigger     TEXT NOT NULL CHECK (trigger IN ('manual', 'schedule', 'webhook', 'replay')),
    -- A schedule's slot, a webhook's request id: a second fire with the same key is the first.
    fire_key    TEXT,
    replay_of   INTEGER REFERENCES routine_fires (id),
    dry_run     INTEGER NOT NULL DEFAULT 0,
    -- JSON: the context as built (each source's value, or why it is missing) and the deliveries.
    inputs      TEXT NOT NULL,
    prompt      TEXT NOT NULL,
    run_id      INTEGER REFERENCES runs (id),
    created_at  INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX routine_fires_key ON routine_fires (routine_id, fire_key) WHERE fire_key IS NOT NULL;
CREATE INDEX routine_fires_by_routine ON routine_fires (routine_id, id);

CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users (id),
    run_id           INTEGER NOT NULL REFERENCES runs (id),
    fire_id          INTEGER REFERENCES routine_fires (id),
    -- The URI as given; a secret URL only as $NAME.
    destination      TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('slack-webhook', 'slack', 'webhook', 'mailto', 'file')),
    idempotency_key  TEXT NOT NULL,
    job_id           INTEGER REFERENCES jobs (id),
    status           TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'retrying', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    http_status      INTEGER,
    response_excerpt TEXT,
    error            TEXT,
    external_id      TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    sent_at          INTEGER
) STRICT;

CREATE UNIQUE INDEX deliveries_key ON deliveries (user_id, idempotency_key);
CREATE INDEX deliveries_by_status ON deliveries (user_id, status, id);
CREATE INDEX deliveries_by_run ON deliveries (run_id, id);
