-- Phase gates in the approvals inbox (issue #17): a document waiting at a
-- project's manual gate is a pending approval with no run. A gate's
-- approval names its project; a tool call's names its run, agent and step.

ALTER TABLE approvals ALTER COLUMN run_id DROP NOT NULL;
ALTER TABLE approvals ALTER COLUMN agent_id DROP NOT NULL;
ALTER TABLE approvals ALTER COLUMN step_sequence DROP NOT NULL;
ALTER TABLE approvals ADD COLUMN project_id BIGINT REFERENCES projects (id);
ALTER TABLE approvals ADD CHECK ((run_id IS NULL) = (project_id IS NOT NULL));
ALTER TABLE approvals ADD CHECK (run_id IS NULL OR (agent_id IS NOT NULL AND step_sequence IS NOT NULL));

-- At most one gate of a project waits: the document at its current phase.
CREATE UNIQUE INDEX approvals_pending_gate ON approvals (project_id) WHERE status = 'pending' AND project_id IS NOT NULL;

-- Documents already waiting at a gate get their approval (the light
-- path's three wait together, as one).
INSERT INTO approvals (user_id, agent_id, call_id, tool, arguments, status, created_at, project_id)
    SELECT d.user_id, p.agent_id, d.phase || '-v' || d.version, 'project.gate',
           jsonb_build_object('project_id', p.id, 'title', p.title, 'phase', d.phase, 'version', d.version, 'phases',
                       CASE WHEN p.quick AND d.phase = 'requirements' AND EXISTS (
                                SELECT 1 FROM project_documents o
                                WHERE o.project_id = p.id AND o.phase = 'design' AND o.status = 'proposed')
                            THEN jsonb_build_array('requirements', 'design', 'tasks')
                            ELSE jsonb_build_array(d.phase) END),
           'pending', d.created_at, p.id
    FROM project_documents d JOIN projects p ON p.id = d.project_id
    WHERE d.status = 'proposed' AND d.phase = p.phase
    ORDER BY d.id;
