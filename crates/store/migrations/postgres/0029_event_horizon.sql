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
-- The advisory-lock namespace of this schema's event writers.
CREATE FUNCTION steward_event_namespace() RETURNS integer
LANGUAGE sql STABLE AS $$ SELECT hashtext('steward.events.' || current_schema()) $$;

-- Taken by every transaction that appends events, before it draws their
-- ids (transaction.rs). The key is the low 32 bits of the transaction id:
-- transaction ids in flight at once are less than 2^31 apart, so no two
-- writers share a key and none waits for another.
CREATE FUNCTION steward_lock_event_writer() RETURNS void
LANGUAGE sql VOLATILE AS $$
    SELECT pg_advisory_xact_lock(steward_event_namespace(), pg_current_xact_id()::text::bigint::bit(32)::integer)
$$;

CREATE FUNCTION steward_event_horizon(wait_limit interval) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    namespace integer := steward_event_namespace();
    deadline timestamptz := clock_timestamp() + wait_limit;
    drawn bigint;
    writer integer;
BEGIN
    -- The ids drawn so far first, the writers second: a writer locks before
    -- it draws, so one that drew an id up to `drawn` holds its lock now or
    -- has finished.
    SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END INTO drawn FROM events_id_seq;
    FOR writer IN
        SELECT objid::bigint::bit(32)::integer FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND objsubid = 2
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND classid = namespace::bigint::bit(32)::bigint::oid
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
            PERFORM pg_advisory_xact_lock_shared(namespace, writer);
        EXCEPTION WHEN lock_not_available THEN
            RETURN NULL;
        END;
    END LOOP;
    RETURN drawn;
END
$$;
