-- Spec-driven projects (issue #17): the ideas inbox; projects moving
-- through requirements → design → tasks → execution → validation → done;
-- every version of each phase's document with its gate decision; and the
-- task graph, one row per task with its state.

CREATE TABLE ideas (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    title       TEXT NOT NULL,
    notes       TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('new', 'refining', 'promoted', 'dropped')),
    project_id  INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX ideas_by_user ON ideas (user_id, id);

CREATE TABLE projects (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    title           TEXT NOT NULL,
    brief           TEXT NOT NULL,
    -- A git repository (a path) tasks work in, each on its own branch.
    repository      TEXT,
    phase           TEXT NOT NULL CHECK (phase IN ('requirements', 'design', 'tasks', 'execution', 'validation', 'done')),
    -- JSON: each document phase's gate, 'manual' or 'automatic'.
    gates           TEXT NOT NULL,
    parallel_limit  INTEGER NOT NULL CHECK (parallel_limit > 0),
    layout          TEXT NOT NULL CHECK (layout IN ('spec-kit', 'kiro')),
    idea_id         INTEGER REFERENCES ideas (id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX projects_by_user ON projects (user_id, id);

CREATE TABLE project_documents (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    project_id  INTEGER NOT NULL REFERENCES projects (id),
    phase       TEXT NOT NULL CHECK (phase IN ('requirements', 'design', 'tasks')),
    version     INTEGER NOT NULL CHECK (version > 0),
    status      TEXT NOT NULL CHECK (status IN ('proposed', 'approved', 'rejected')),
    -- JSON: the document, as its phase's schema describes it.
    document    TEXT NOT NULL,
    -- Why it was sent back (what the revision must address).
    comment     TEXT,
    created_at  INTEGER NOT NULL,
    decided_at  INTEGER
) STRICT;

CREATE UNIQUE INDEX project_documents_version ON project_documents (project_id, phase, version);

CREATE TABLE project_tasks (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    project_id  INTEGER NOT NULL REFERENCES projects (id),
    -- The task's id in its document (T001, 1.2), and its place in the list.
    task_key    TEXT NOT NULL,
    position    INTEGER NOT NULL,
    -- JSON: the task as the approved tasks document has it.
    spec        TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'running', 'validating', 'done', 'failed')),
    rounds      INTEGER NOT NULL DEFAULT 0 CHECK (rounds >= 0),
    feedback    TEXT,
    job_id      INTEGER REFERENCES jobs (id),
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX project_tasks_key ON project_tasks (project_id, task_key);
