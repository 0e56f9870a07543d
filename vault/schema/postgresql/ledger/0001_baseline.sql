-- The ledger store on PostgreSQL (consent/ledger.py): the tables of sqlite/ledger/0001_baseline.sql.
-- A schema of its own (``ledger``) in the data database: one ledger for every host. Appends are
-- serialised by a transaction-level advisory lock (consent/postgresql/ledger.py), as SQLite's
-- write lock serialises them. Shared by every member: under Citus, local to the coordinator
-- (or a reference table); nothing here is distributed by member.

CREATE TABLE entries (
    seq         BIGINT PRIMARY KEY,           -- 0, 1, 2, ...: the leaf index
    body        BYTEA NOT NULL                -- canonical JSON, the Merkle leaf
);

CREATE TABLE tree_nodes (
    position    BIGINT PRIMARY KEY,           -- post-order number, merkle.node_position
    hash        BYTEA NOT NULL                -- of a perfect subtree (leaf hashes included)
);

CREATE TABLE checkpoints (
    tree_size   BIGINT PRIMARY KEY,
    root_hash   BYTEA NOT NULL,
    signed_at   TEXT NOT NULL,                -- UTC ISO 8601
    note        TEXT NOT NULL                 -- C2SP signed note, tlog-checkpoint body
);

-- As SQLite's baseline; migration 3 drops it on both engines.
CREATE TABLE access_index (
    principal   TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    brand_id    TEXT NOT NULL,
    read_at     BIGINT NOT NULL,
    PRIMARY KEY (principal, seq)
);
CREATE INDEX access_index_by_time ON access_index (principal, read_at, seq);

-- Per access spool (each host's own), the last record appended here, moved in the transaction
-- that appends the records (consent/spool.py).
CREATE TABLE spool_marks (
    spool           TEXT PRIMARY KEY,
    merged_through  BIGINT NOT NULL
);
