-- Memory (issue #14): search ranks full text in process
-- (`domain::memory::bm25`); this log is how a process's index learns which
-- items were written since it last looked. A transaction that writes an
-- item's text takes the user's next number from `memory_text_heads` and
-- logs the item under it. (On PostgreSQL that update holds the row's lock
-- until commit, so a user's numbers follow commit order there too.)
CREATE TABLE memory_text_heads (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    seq     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE memory_text_log (
    user_id   INTEGER NOT NULL REFERENCES users (id),
    seq       INTEGER NOT NULL,
    item_kind TEXT NOT NULL CHECK (item_kind IN ('episode', 'entity', 'fact')),
    item_id   INTEGER NOT NULL,
    PRIMARY KEY (user_id, seq, item_kind, item_id)
) STRICT, WITHOUT ROWID;

-- What was written before this migration: all under number 1.
INSERT INTO memory_text_log (user_id, seq, item_kind, item_id)
    SELECT user_id, 1, 'episode', id FROM memory_episodes
    UNION ALL SELECT user_id, 1, 'entity', id FROM memory_entities
    UNION ALL SELECT user_id, 1, 'fact', id FROM memory_facts;
INSERT INTO memory_text_heads (user_id, seq) SELECT DISTINCT user_id, 1 FROM memory_text_log;
