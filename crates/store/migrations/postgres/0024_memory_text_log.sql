-- Memory (issue #14): search ranks full text in process
-- (`domain::memory::bm25`); this log is how a process's index learns which
-- items were written since it last looked. A transaction that writes an
-- item's text takes the user's next number from `memory_text_heads` and
-- logs the item under it. The update holds the row's lock until commit, so
-- a user's numbers follow commit order: a reader that has seen number N
-- never finds a smaller one committed later.
CREATE TABLE memory_text_heads (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    seq     BIGINT NOT NULL
);

CREATE TABLE memory_text_log (
    user_id   BIGINT NOT NULL REFERENCES users (id),
    seq       BIGINT NOT NULL,
    item_kind TEXT NOT NULL CHECK (item_kind IN ('episode', 'entity', 'fact')),
    item_id   BIGINT NOT NULL,
    PRIMARY KEY (user_id, seq, item_kind, item_id)
);

-- What was written before this migration: all under number 1.
INSERT INTO memory_text_log (user_id, seq, item_kind, item_id)
    SELECT user_id, 1, 'episode', id FROM memory_episodes
    UNION ALL SELECT user_id, 1, 'entity', id FROM memory_entities
    UNION ALL SELECT user_id, 1, 'fact', id FROM memory_facts;
INSERT INTO memory_text_heads (user_id, seq) SELECT DISTINCT user_id, 1 FROM memory_text_log;
