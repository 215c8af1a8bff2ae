-- Agents work on projects (issue #17): the agent that writes a project's
-- documents and works on its tasks, the validator that checks each finished
-- task, how many times a task may be sent back before a person decides,
-- the latest failure of an agent's work (a reply that did not match the
-- phase's schema), and the run working on each task.

ALTER TABLE projects ADD COLUMN agent_id INTEGER REFERENCES agents (id);
ALTER TABLE projects ADD COLUMN validator_id INTEGER REFERENCES agents (id);
ALTER TABLE projects ADD COLUMN max_rounds INTEGER NOT NULL DEFAULT 2 CHECK (max_rounds >= 0);
ALTER TABLE projects ADD COLUMN failure TEXT;

ALTER TABLE project_tasks ADD COLUMN run_id INTEGER REFERENCES runs (id);
