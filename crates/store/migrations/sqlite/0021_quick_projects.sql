-- The light path (issue #17): a quick project's agent writes requirements,
-- design and tasks in one go, and the three wait together at one gate.

ALTER TABLE projects ADD COLUMN quick INTEGER NOT NULL DEFAULT 0;
