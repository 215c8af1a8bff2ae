-- A job's owner is checked once per statement, not once per row.
--
-- The foreign key jobs.user_id -> users.id made PostgreSQL run one query per
-- inserted job (`SELECT 1 FROM users WHERE id = $1 FOR KEY SHARE`, through
-- SPI), and that check cost about as much as the insert itself: 6.5-7.8 us
-- per job against 3.5-4.2 us with the triggers below, 1,000 jobs per
-- statement; 12.4-13.0 against 10.2-10.6 us at 8 jobs; about the same for
-- one job (bench/postgres-owner-check/run.sh, docs/benchmarks.md "The job
-- owner's check, once per statement"). Batches of 1,000 jobs paid it 1,000
-- times for one owner.
--
-- The triggers below keep the same guarantee with one check per statement:
--
-- * an insert locks each distinct owner it names FOR KEY SHARE (the lock
--   the foreign key took) and fails if one is missing;
-- * removing a user fails while a job names it;
-- * a job never changes owner, and a user never changes id.
--
-- Races are closed by the row lock, as they were for the foreign key: an
-- insert whose owner is being removed waits for that removal and then finds
-- the owner gone; a removal waits for the inserts holding the owner's lock,
-- and its check (a fresh snapshot under READ COMMITTED, which every Steward
-- transaction uses) then sees their jobs. Under REPEATABLE READ the removal's
-- check would not see jobs committed after its snapshot; Steward never
-- removes users at that level.

ALTER TABLE jobs DROP CONSTRAINT jobs_user_id_fkey;

CREATE FUNCTION steward_jobs_have_owners() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    lowest bigint;
    highest bigint;
    named bigint;
    locked bigint;
    missing bigint;
BEGIN
    -- Nearly every statement inserts the jobs of one owner; that case is one
    -- aggregate and one locking lookup by primary key.
    SELECT min(user_id), max(user_id) INTO lowest, highest FROM inserted;
    IF lowest = highest THEN
        PERFORM FROM users WHERE id = lowest FOR KEY SHARE;
        IF FOUND THEN
            RETURN NULL;
        END IF;
    ELSE
        SELECT count(DISTINCT user_id) INTO named FROM inserted;
        SELECT count(*) INTO locked
        FROM (SELECT id FROM users WHERE id IN (SELECT user_id FROM inserted) FOR KEY SHARE) AS owners;
        IF locked = named THEN
            RETURN NULL;
        END IF;
    END IF;
    SELECT min(user_id) INTO missing FROM inserted
    WHERE NOT EXISTS (SELECT 1 FROM users WHERE users.id = inserted.user_id);
    RAISE EXCEPTION 'jobs.user_id: user % does not exist', missing
        USING ERRCODE = 'foreign_key_violation', TABLE = 'jobs', COLUMN = 'user_id';
END $$;

CREATE TRIGGER jobs_have_owners AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION steward_jobs_have_owners();

-- Owners and user ids never change. Both guards are statement triggers on
-- the column: a row trigger on UPDATE of jobs, even one limited to
-- `user_id`, makes PostgreSQL fetch and lock every updated job before it
-- looks at the column list, which every claim and settlement would pay.
CREATE FUNCTION steward_owners_never_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%.%: never changes once stored', TG_TABLE_NAME, TG_ARGV[0]
        USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME, COLUMN = TG_ARGV[0];
END $$;

CREATE TRIGGER jobs_keep_their_owner AFTER UPDATE OF user_id ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION steward_owners_never_change('user_id');

CREATE TRIGGER users_keep_their_id AFTER UPDATE OF id ON users
    FOR EACH STATEMENT EXECUTE FUNCTION steward_owners_never_change('id');

CREATE FUNCTION steward_owners_of_jobs_stay() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM jobs WHERE user_id = OLD.id) THEN
        RAISE EXCEPTION 'users.id: user % still owns jobs', OLD.id
            USING ERRCODE = 'foreign_key_violation', TABLE = 'users', COLUMN = 'id';
    END IF;
    RETURN OLD;
END $$;

CREATE TRIGGER owners_of_jobs_stay BEFORE DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION steward_owners_of_jobs_stay();
