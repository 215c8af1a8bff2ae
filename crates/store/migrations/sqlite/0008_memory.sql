-- Memory (issue #14): a temporal knowledge graph. Episodes are what was
-- ingested; entities the graph's nodes; facts its edges, each valid in world
-- time on [valid_at, invalid_at) and believed in system time on
-- [created_at, expired_at). Nothing here is deleted: a contradicted or
-- forgotten fact is closed.

CREATE TABLE memory_episodes (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    -- NULL: shared by all the user's agents.
    agent_id     INTEGER REFERENCES agents (id),
    source       TEXT NOT NULL CHECK (source IN ('message', 'run_output', 'feedback', 'correction', 'document', 'note')),
    -- The source's own id (a message id, a dataset's dia_id).
    source_ref   TEXT,
    content      TEXT NOT NULL,
    -- When it happened in the world.
    reference_at INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    -- When ingestion stored its entities and facts; a retried job stops here.
    ingested_at  INTEGER
) STRICT;

CREATE UNIQUE INDEX memory_episodes_source_ref ON memory_episodes (user_id, source, source_ref)
    WHERE source_ref IS NOT NULL;
CREATE INDEX memory_episodes_by_user ON memory_episodes (user_id, id);

CREATE TABLE memory_entities (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    name            TEXT NOT NULL,
    normalized_name TEXT NOT NULL,
    -- JSON array of type labels.
    labels          TEXT NOT NULL,
    summary         TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX memory_entities_name ON memory_entities (user_id, normalized_name);

-- A name that resolved to an existing entity other than by its exact
-- normalised name: the merge, recorded.
CREATE TABLE memory_entity_merges (
    id          INTEGER PRIMARY KEY,
    entity_id   INTEGER NOT NULL REFERENCES memory_entities (id),
    alias       TEXT NOT NULL,
    method      TEXT NOT NULL CHECK (method IN ('fuzzy', 'embedding')),
    similarity  REAL NOT NULL,
    episode_id  INTEGER NOT NULL REFERENCES memory_episodes (id),
    created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX memory_entity_merges_by_entity ON memory_entity_merges (entity_id);

CREATE TABLE memory_facts (
    id                   INTEGER PRIMARY KEY,
    user_id              INTEGER NOT NULL REFERENCES users (id),
    agent_id             INTEGER REFERENCES agents (id),
    kind                 TEXT NOT NULL CHECK (kind IN ('relation', 'preference', 'decision')),
    subject_id           INTEGER NOT NULL REFERENCES memory_entities (id),
    object_id            INTEGER REFERENCES memory_entities (id),
    relation             TEXT NOT NULL,
    statement            TEXT NOT NULL,
    -- Lower-case words of the statement: what duplicate detection compares.
    normalized_statement TEXT NOT NULL,
    valid_at             INTEGER NOT NULL,
    invalid_at           INTEGER,
    created_at           INTEGER NOT NULL,
    expired_at           INTEGER
) STRICT;

CREATE INDEX memory_facts_by_subject ON memory_facts (subject_id);
CREATE INDEX memory_facts_by_object ON memory_facts (object_id);
CREATE INDEX memory_facts_by_user ON memory_facts (user_id, kind, id);

-- Provenance: the episodes each fact came from.
CREATE TABLE memory_fact_episodes (
    fact_id    INTEGER NOT NULL REFERENCES memory_facts (id),
    episode_id INTEGER NOT NULL REFERENCES memory_episodes (id),
    PRIMARY KEY (fact_id, episode_id)
) STRICT;

CREATE INDEX memory_fact_episodes_by_episode ON memory_fact_episodes (episode_id);

-- Core memory blocks: small, always in an agent's context.
CREATE TABLE memory_core_blocks (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    agent_id   INTEGER NOT NULL REFERENCES agents (id),
    label      TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (agent_id, label)
) STRICT;

-- Embeddings of episodes, entities and facts, as little-endian f32s;
-- searched by an in-process cosine index.
CREATE TABLE memory_embeddings (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    item_kind  TEXT NOT NULL CHECK (item_kind IN ('episode', 'entity', 'fact')),
    item_id    INTEGER NOT NULL,
    model      TEXT NOT NULL,
    vector     BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX memory_embeddings_item ON memory_embeddings (item_kind, item_id, model);
CREATE INDEX memory_embeddings_by_user ON memory_embeddings (user_id, id);

-- Full text over all three kinds (PostgreSQL indexes each table's text
-- with a GIN index on to_tsvector instead).
CREATE VIRTUAL TABLE memory_text USING fts5 (
    body, item_kind UNINDEXED, item_id UNINDEXED, user_id UNINDEXED,
    tokenize = 'porter unicode61'
);
