-- Phase gates in the approvals inbox (issue #17): a document waiting at a
-- project's manual gate is a pending approval with no run. SQLite cannot
-- drop a NOT NULL, so the table is rebuilt (create, copy, drop, rename;
-- nothing refers to approvals). A gate's approval names its project; a
-- tool call's names its run, agent and step.

CREATE TABLE approvals_0025 (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    run_id        INTEGER REFERENCES runs (id),
    agent_id      INTEGER REFERENCES agents (id),
    step_sequence INTEGER,
    call_id       TEXT NOT NULL,
    tool          TEXT NOT NULL,
    arguments     TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    reason        TEXT,
    created_at    INTEGER NOT NULL,
    decided_at    INTEGER,
    project_id    INTEGER REFERENCES projects (id),
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK ((run_id IS NULL) = (project_id IS NOT NULL)),
    CHECK (run_id IS NULL OR (agent_id IS NOT NULL AND step_sequence IS NOT NULL))
) STRICT;

INSERT INTO approvals_0025 (id, user_id, run_id, agent_id, step_sequence, call_id, tool, arguments, status, reason,
                            created_at, decided_at)
    SELECT id, user_id, run_id, agent_id, step_sequence, call_id, tool, arguments, status, reason, created_at, decided_at
    FROM approvals;
DROP TABLE approvals;
ALTER TABLE approvals_0025 RENAME TO approvals;

CREATE UNIQUE INDEX approvals_per_call ON approvals (run_id, step_sequence, call_id);
CREATE INDEX approvals_by_user ON approvals (user_id, status, id);
-- At most one gate of a project waits: the document at its current phase.
CREATE UNIQUE INDEX approvals_pending_gate ON approvals (project_id) WHERE status = 'pending' AND project_id IS NOT NULL;

-- Documents already waiting at a gate get their approval (the light
-- path's three wait together, as one).
INSERT INTO approvals (user_id, agent_id, call_id, tool, arguments, status, created_at, project_id)
    SELECT d.user_id, p.agent_id, d.phase || '-v' || d.version, 'project.gate',
           json_object('project_id', p.id, 'title', p.title, 'phase', d.phase, 'version', d.version, 'phases',
                       CASE WHEN p.quick = 1 AND d.phase = 'requirements' AND EXISTS (
                                SELECT 1 FROM project_documents o
                                WHERE o.project_id = p.id AND o.phase = 'design' AND o.status = 'proposed')
                            THEN json_array('requirements', 'design', 'tasks')
                            ELSE json_array(d.phase) END),
           'pending', d.created_at, p.id
    FROM project_documents d JOIN projects p ON p.id = d.project_id
    WHERE d.status = 'proposed' AND d.phase = p.phase
    ORDER BY d.id;
