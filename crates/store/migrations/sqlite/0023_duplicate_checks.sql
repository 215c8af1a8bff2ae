-- Duplicate detection with embeddings, and what it costs. A flag says why
-- it matched: the text similarity of the pair and, when memory has an
-- embedding model, the cosine of their embeddings (NULL without one, and
-- on flags from before this migration).
ALTER TABLE duplicates ADD COLUMN text_similarity REAL;
ALTER TABLE duplicates ADD COLUMN embedding_similarity REAL;

-- Model calls made to watch work rather than do it, other than the
-- guardian's (kept in run_assessments): a duplicate scan's question to a
-- model about a close pair (`duplicate_check`, its `subject` the pair and
-- `outcome` the answer, so the same pair is not asked again) and its
-- embedding calls (`duplicate_embedding`). Each is charged to the agent
-- whose work it looked at: shown as oversight in costs and counted in the
-- agent's spending, so budgets stop them too.
CREATE TABLE oversight_calls (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users (id),
    agent_id       INTEGER NOT NULL REFERENCES agents (id),
    purpose        TEXT NOT NULL CHECK (purpose IN ('duplicate_check', 'duplicate_embedding')),
    subject        TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    model          TEXT NOT NULL,
    input_tokens   INTEGER NOT NULL,
    output_tokens  INTEGER NOT NULL,
    -- NULL when the model's price is unknown.
    cost_usd       REAL,
    created_at     INTEGER NOT NULL
);

CREATE INDEX oversight_calls_by_user_time ON oversight_calls (user_id, created_at);
CREATE INDEX oversight_calls_by_agent_time ON oversight_calls (agent_id, created_at);
CREATE INDEX oversight_calls_by_subject ON oversight_calls (user_id, purpose, subject);
