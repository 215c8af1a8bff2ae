-- Nothing to change on SQLite. PostgreSQL's migration 29 adds the event
-- horizon that lets its writers commit events side by side; here one
-- writer thread commits every transaction in turn, so event ids already
-- become visible in order. Kept so both backends share one history.
SELECT 1;
