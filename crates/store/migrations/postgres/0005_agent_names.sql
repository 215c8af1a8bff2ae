-- Agent names are unique without regard to case (issue #18): a person who
-- typed "launch writer" means the agent "Launch writer", so two live agents
-- may not differ only in case, and lookups by name ignore case.

-- Live agents created before this migration may differ only in case; the
-- later of each such pair keeps its name with its id appended, so the new
-- index can be built and no agent is lost.
UPDATE agents SET name = name || ' (' || id || ')'
WHERE status <> 'archived'
  AND EXISTS (SELECT 1 FROM agents AS earlier
              WHERE earlier.user_id = agents.user_id
                AND earlier.status <> 'archived'
                AND lower(earlier.name) = lower(agents.name)
                AND earlier.id < agents.id);

DROP INDEX agents_live_name;
CREATE UNIQUE INDEX agents_live_name ON agents (user_id, lower(name)) WHERE status <> 'archived';
