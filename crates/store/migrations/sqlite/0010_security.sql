-- Who made each change (issue #11): the user and the token (or dashboard
-- session) of the request behind an event; both empty for what the system
-- did by itself (workers, the scheduler). Not foreign keys: the log
-- outlives removed users and tokens.
ALTER TABLE events ADD COLUMN actor_user_id INTEGER;
ALTER TABLE events ADD COLUMN actor_token_id INTEGER;
