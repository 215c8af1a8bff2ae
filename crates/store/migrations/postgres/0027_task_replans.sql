-- Editing a spec restarts a task being worked on (issue #17): each task
-- counts the edits that re-planned it, and a move of the task decided on
-- an earlier count (a stopped run's result landing late) is refused.

ALTER TABLE project_tasks ADD COLUMN replans BIGINT NOT NULL DEFAULT 0 CHECK (replans >= 0);
