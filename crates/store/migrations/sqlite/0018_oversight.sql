-- The guardian's assessments of long runs: each look at a run's trajectory,
-- what the model recommended, what the policy made of it and where that
-- intervention is; and what the look cost, kept apart from the run's own
-- model calls so oversight shows separately in costs.
CREATE TABLE run_assessments (
    id                    INTEGER PRIMARY KEY,
    user_id               INTEGER NOT NULL REFERENCES users (id),
    run_id                INTEGER NOT NULL REFERENCES runs (id),
    agent_id              INTEGER NOT NULL REFERENCES agents (id),
    -- The run's progress the look saw; a run is looked at again only past it.
    steps_seen            INTEGER NOT NULL,
    tokens_seen           INTEGER NOT NULL,
    alignment             REAL NOT NULL,
    drift_reason          TEXT NOT NULL,
    recommended           TEXT NOT NULL CHECK (recommended IN ('continue', 'steer', 'pause', 'cancel')),
    intervention          TEXT NOT NULL CHECK (intervention IN ('continue', 'steer', 'pause', 'cancel')),
    status                TEXT NOT NULL
                          CHECK (status IN ('recorded', 'pending', 'delivered', 'applied', 'proposed', 'dropped')),
    message               TEXT NOT NULL,
    needs_person          INTEGER NOT NULL DEFAULT 0,
    model                 TEXT NOT NULL,
    input_tokens          INTEGER NOT NULL,
    output_tokens         INTEGER NOT NULL,
    -- NULL when the model's price is unknown.
    cost_usd              REAL,
    -- The run step whose model call first carried the intervention.
    delivered_before_step INTEGER,
    created_at            INTEGER NOT NULL
);

CREATE INDEX run_assessments_by_run ON run_assessments (run_id, id);
CREATE INDEX run_assessments_by_user_time ON run_assessments (user_id, created_at);

-- Open work items that say the same thing (two actions, or two tasks of a
-- project), found by text similarity, and what a person made of each
-- pair: merged (one kept, the other dropped with a link) or both kept.
CREATE TABLE duplicates (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    kind          TEXT NOT NULL CHECK (kind IN ('action', 'task')),
    project_id    INTEGER REFERENCES projects (id),
    -- Action ids, or a project's task ids; first < second as text.
    first_ref     TEXT NOT NULL,
    second_ref    TEXT NOT NULL,
    first_title   TEXT NOT NULL,
    second_title  TEXT NOT NULL,
    similarity    REAL NOT NULL,
    method        TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('open', 'merged', 'kept_both')),
    kept_ref      TEXT,
    created_at    INTEGER NOT NULL,
    decided_at    INTEGER
);

CREATE UNIQUE INDEX duplicates_once ON duplicates (user_id, kind, first_ref, second_ref);
