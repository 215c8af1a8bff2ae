-- Projects at work (issue #17): whether a task an agent discovers joins the
-- graph at once or after a person approves it; the commands run in a task's
-- workspace after the validator passes it (a JSON array of strings); and an
-- index to find the
-- task a run works on (an agent's `project.add_task` call names the task it
-- came from that way).

ALTER TABLE projects ADD COLUMN discovered_tasks TEXT NOT NULL DEFAULT 'approve'
    CHECK (discovered_tasks IN ('approve', 'allow'));
ALTER TABLE projects ADD COLUMN checks JSONB NOT NULL DEFAULT '[]';

CREATE INDEX project_tasks_run ON project_tasks (run_id) WHERE run_id IS NOT NULL;
