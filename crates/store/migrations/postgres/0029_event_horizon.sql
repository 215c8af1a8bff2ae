-- Event ids no longer wait for one another's commits (ARCHITECTURE.md,
-- "Event order on PostgreSQL"). A transaction that appends events first
-- takes an advisory lock of its own, keyed by the schema and its
-- transaction id, and holds it until its commit is visible; then it draws
-- its ids. Readers page with `id > cursor AND id <= horizon`, where the
-- horizon comes from this function: the largest id drawn when it was
-- called, returned only after every writer that could have drawn an id at
-- or below it has committed or rolled back. So no id at or below a horizon
-- becomes visible later, and a reader never passes a gap that fills in.
--
-- Writers commit within milliseconds. One that holds its lock for longer
-- than `wait_limit` has stalled (a node frozen between its last statement
-- and COMMIT); then the function returns NULL rather than keep the caller
-- and its connection waiting, and the caller stays at an earlier horizon.
CREATE FUNCTION steward_event_horizon(wait_limit interval) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    namespace integer := hashtext('steward.events.' || current_schema());
    deadline timestamptz := clock_timestamp() + wait_limit;
    drawn bigint;
    writer bigint;
BEGIN
    -- The ids drawn so far first, the writers second: a writer locks before
    -- it draws, so one that drew an id up to `drawn` holds its lock now or
    -- has finished.
    SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END INTO drawn FROM events_id_seq;
    FOR writer IN
        SELECT objid::bigint FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND objsubid = 2
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND classid = (namespace::bigint & 4294967295)::oid
    LOOP
        IF clock_timestamp() >= deadline THEN
            RETURN NULL;
        END IF;
        PERFORM set_config('lock_timeout',
                           greatest(1, ceil(extract(epoch FROM deadline - clock_timestamp()) * 1000))::bigint || 'ms',
                           true);
        BEGIN
            -- Granted once that writer's transaction has ended; no other
            -- transaction ever takes its key, so this waits for nothing else.
            PERFORM pg_advisory_xact_lock_shared(
                namespace, (writer - CASE WHEN writer >= 2147483648 THEN 4294967296 ELSE 0 END)::integer);
        EXCEPTION WHEN lock_not_available THEN
            RETURN NULL;
        END;
    END LOOP;
    RETURN drawn;
END
$$;
