-- Nothing to change on SQLite. PostgreSQL's migration 30 replaces the
-- foreign key jobs.user_id -> users.id with triggers that check a job's
-- owner once per statement, because its foreign key ran a query per
-- inserted job. SQLite checks a foreign key with one primary-key lookup in
-- the same process, so the key stays. Kept so both backends share one history.
SELECT 1;
