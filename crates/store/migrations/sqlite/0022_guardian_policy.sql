-- The guardian per project (issue #17): what a project changes of the
-- guardian's policy for its tasks' runs (a JSON object of the fields it
-- sets; `{}` changes nothing), and an index to count the guardian's looks
-- against the agent's budget.
ALTER TABLE projects ADD COLUMN guardian TEXT NOT NULL DEFAULT '{}';

CREATE INDEX run_assessments_by_agent_time ON run_assessments (agent_id, created_at);
