-- The agent runtime (issue #4): agents gain a tool allowlist, run limits and
-- budgets.

-- JSON array of tool names; NULL means the default set.
ALTER TABLE agents ADD COLUMN tools TEXT;
ALTER TABLE agents ADD COLUMN max_steps INTEGER;
ALTER TABLE agents ADD COLUMN max_tokens INTEGER;
ALTER TABLE agents ADD COLUMN max_cost_usd REAL;
ALTER TABLE agents ADD COLUMN max_wall_secs INTEGER;
ALTER TABLE agents ADD COLUMN budget_daily_usd REAL;
ALTER TABLE agents ADD COLUMN budget_total_usd REAL;

-- Runs: the `runs` table of migration 1 was a placeholder nothing wrote to;
-- it is replaced by one that holds everything a run is.
DROP TABLE runs;

CREATE TABLE runs (
    id                 INTEGER PRIMARY KEY,
    user_id            INTEGER NOT NULL REFERENCES users (id),
    agent_id           INTEGER NOT NULL REFERENCES agents (id),
    action_id          INTEGER REFERENCES actions (id),
    -- The job executing the run now, or the last one that did.
    job_id             INTEGER REFERENCES jobs (id),
    status             TEXT NOT NULL CHECK (status IN ('queued', 'running', 'awaiting_approval', 'finished')),
    outcome            TEXT CHECK (outcome IN ('completed', 'max_steps', 'max_tokens', 'max_cost', 'max_wall_time',
                                               'budget_exceeded', 'cancelled', 'failed')),
    instruction        TEXT NOT NULL,
    -- The run's own limits; NULL leaves a limit to the agent and the defaults.
    max_steps          INTEGER,
    max_tokens         INTEGER,
    max_cost_usd       REAL,
    max_wall_secs      INTEGER,
    -- Totals over the stored steps, kept in the transaction that stores each step.
    input_tokens       INTEGER NOT NULL DEFAULT 0,
    output_tokens      INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens  INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    -- Of the model calls whose cost is known; the others are counted in
    -- unknown_cost_calls, never added as $0.
    cost_usd           REAL NOT NULL DEFAULT 0,
    unknown_cost_calls INTEGER NOT NULL DEFAULT 0,
    model_calls        INTEGER NOT NULL DEFAULT 0,
    tool_calls         INTEGER NOT NULL DEFAULT 0,
    steps              INTEGER NOT NULL DEFAULT 0,
    output             TEXT,
    error              TEXT,
    cancel_requested   INTEGER NOT NULL DEFAULT 0,
    -- Jobs enqueued to resume the run after approvals; numbers the
    -- idempotency key of the next one.
    resumes            INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    started_at         INTEGER,
    finished_at        INTEGER,
    CHECK ((status = 'finished') = (outcome IS NOT NULL))
) STRICT;

-- Listing newest first: all of a user's runs, an agent's, an action's.
CREATE INDEX runs_by_user ON runs (user_id, id);
CREATE INDEX runs_by_agent ON runs (user_id, agent_id, id);
CREATE INDEX runs_by_action ON runs (user_id, action_id, id) WHERE action_id IS NOT NULL;

-- A run's completed steps: its checkpoints and its trace. user_id and
-- agent_id are copied from the run so spending is summed without a join.
CREATE TABLE run_steps (
    run_id                     INTEGER NOT NULL REFERENCES runs (id),
    sequence                   INTEGER NOT NULL CHECK (sequence >= 0),
    user_id                    INTEGER NOT NULL REFERENCES users (id),
    agent_id                   INTEGER NOT NULL REFERENCES agents (id),
    kind                       TEXT NOT NULL CHECK (kind IN ('instruction', 'model_call', 'tool_call', 'summary')),
    name                       TEXT NOT NULL,
    content                    TEXT NOT NULL,
    -- Token counts are all NULL (no model call) or all set.
    input_tokens               INTEGER,
    output_tokens              INTEGER,
    cache_read_tokens          INTEGER,
    cache_write_tokens         INTEGER,
    -- NULL when the cost is unknown (or the step made no model call).
    cost_usd                   REAL,
    -- 1 when the step made a model call (whose cost may be unknown).
    model_call                 INTEGER NOT NULL,
    time_to_first_token_micros INTEGER,
    stop_reason                TEXT,
    error                      TEXT,
    started_at                 INTEGER NOT NULL,
    finished_at                INTEGER NOT NULL,
    PRIMARY KEY (run_id, sequence),
    CHECK ((input_tokens IS NULL) = (output_tokens IS NULL)
           AND (input_tokens IS NULL) = (cache_read_tokens IS NULL)
           AND (input_tokens IS NULL) = (cache_write_tokens IS NULL))
) STRICT, WITHOUT ROWID;

-- Spending by day: the model calls of an agent by the time they finished.
CREATE INDEX run_steps_spend ON run_steps (user_id, agent_id, finished_at) WHERE model_call = 1;

CREATE TABLE approvals (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    run_id        INTEGER NOT NULL REFERENCES runs (id),
    agent_id      INTEGER NOT NULL REFERENCES agents (id),
    step_sequence INTEGER NOT NULL,
    call_id       TEXT NOT NULL,
    tool          TEXT NOT NULL,
    arguments     TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    reason        TEXT,
    created_at    INTEGER NOT NULL,
    decided_at    INTEGER,
    CHECK ((status = 'pending') = (decided_at IS NULL))
) STRICT;

-- One request per tool call: a run that asks again after a crash gets the
-- request it made before.
CREATE UNIQUE INDEX approvals_per_call ON approvals (run_id, step_sequence, call_id);
CREATE INDEX approvals_by_user ON approvals (user_id, status, id);

CREATE TABLE conversations (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL CHECK (kind IN ('setup', 'agent', 'action')),
    agent_id   INTEGER REFERENCES agents (id),
    action_id  INTEGER REFERENCES actions (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK (kind <> 'agent' OR (agent_id IS NOT NULL AND action_id IS NULL)),
    CHECK (kind <> 'action' OR (agent_id IS NOT NULL AND action_id IS NOT NULL)),
    CHECK (kind <> 'setup' OR action_id IS NULL)
) STRICT;

-- One chat per agent and one thread per action.
CREATE UNIQUE INDEX conversations_agent_chat ON conversations (user_id, agent_id) WHERE kind = 'agent';
CREATE UNIQUE INDEX conversations_action_thread ON conversations (user_id, action_id) WHERE kind = 'action';
-- A setup chat leads to at most one agent.
CREATE UNIQUE INDEX conversations_setup_agent ON conversations (agent_id) WHERE kind = 'setup';
-- An agent's conversations of every kind, whose messages count in its spending.
CREATE INDEX conversations_by_agent ON conversations (user_id, agent_id) WHERE agent_id IS NOT NULL;

CREATE TABLE messages (
    id                 INTEGER PRIMARY KEY,
    conversation_id    INTEGER NOT NULL REFERENCES conversations (id),
    role               TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text               TEXT NOT NULL,
    data               TEXT NOT NULL,
    -- The model calls that wrote the message (an assistant reply), which
    -- count in its agent's spending like a run's: cost_usd of those whose
    -- cost is known, the others in unknown_cost_calls, never added as $0.
    model_calls        INTEGER NOT NULL DEFAULT 0 CHECK (model_calls >= 0),
    cost_usd           REAL NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
    unknown_cost_calls INTEGER NOT NULL DEFAULT 0 CHECK (unknown_cost_calls BETWEEN 0 AND model_calls),
    created_at         INTEGER NOT NULL
) STRICT;

CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
-- Spending by day: the messages that made model calls, by the time they were stored.
CREATE INDEX messages_spend ON messages (conversation_id, created_at) WHERE model_calls > 0;

-- Files agents wrote. A file is one row per path in its action's folder,
-- or in its run's folder when the run works on no action.
CREATE TABLE artifacts (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    -- The run that wrote it last.
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    action_id  INTEGER REFERENCES actions (id),
    path       TEXT NOT NULL,
    bytes      INTEGER NOT NULL CHECK (bytes >= 0),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX artifacts_action_path ON artifacts (action_id, path) WHERE action_id IS NOT NULL;
CREATE UNIQUE INDEX artifacts_run_path ON artifacts (run_id, path) WHERE action_id IS NULL;
CREATE INDEX artifacts_by_run ON artifacts (run_id, path);
CREATE INDEX artifacts_by_user ON artifacts (user_id, path);
