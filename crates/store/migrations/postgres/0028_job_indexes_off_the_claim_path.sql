-- Fewer index entries for every job that runs. A job's state changes twice
-- on its way through the queue (queued -> running -> completed), and each
-- change rewrites every index that names `state`. Two of those indexes are
-- not needed on that path (docs/benchmarks.md, "Fewer index entries per job").

-- `jobs_by_state (user_id, state)` served listings and counts by state. The
-- states a job passes through on every run have their own ways in (the claim
-- indexes for queued and running; the table in id order for completed, where
-- most jobs are); the states off that path get a partial index, which a job
-- that runs and completes never enters. Listings name its predicate verbatim
-- (jobs/listing.rs) so both planners can use it. Written with OR, not IN:
-- SQLite evaluates a partial index's predicate on every update of the row,
-- and an IN list there cost about 1 us per update against 0.1 us for the
-- ORs (measured with SQLite 3.50 on 200,000 rows, two updates each).
DROP INDEX jobs_by_state;
CREATE INDEX jobs_off_path ON jobs (user_id, id) WHERE (state = 'blocked' OR state = 'cancelled' OR state = 'dead');

-- When the next delayed job becomes ready. A job whose run_at is not after
-- its creation was ready when it was stored, so it is never the answer to
-- "the next run_at after now"; only delayed jobs and retries waiting out
-- their back-off need an entry.
DROP INDEX jobs_scheduled;
CREATE INDEX jobs_delayed ON jobs (run_at) WHERE state = 'queued' AND run_at > created_at;
