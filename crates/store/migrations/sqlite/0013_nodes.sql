-- Nodes (issue #16): each `steward serve` process records itself and beats
-- while it runs, so `steward nodes` shows who shares the database. The id is
-- the node's worker id, the `lease_owner` of the jobs it runs; `lease_ms` is
-- its lease, after which a node that stopped beating counts as silent (its
-- jobs' leases have expired by then and any node reclaims them).
CREATE TABLE nodes (
    id TEXT NOT NULL PRIMARY KEY,
    address TEXT NOT NULL,
    lease_ms INTEGER NOT NULL CHECK (lease_ms > 0),
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    stopped_at INTEGER
);
