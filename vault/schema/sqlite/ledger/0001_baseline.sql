-- The ledger store (consent/ledger.py): the Merkle tree's leaves and nodes and the signed
-- checkpoints, then what is kept beside the tree and never signed or proved.

CREATE TABLE entries (
    seq         INTEGER PRIMARY KEY,          -- 0, 1, 2, ...: the leaf index
    body        BLOB NOT NULL                 -- canonical JSON, the Merkle leaf
);

CREATE TABLE tree_nodes (
    position    INTEGER PRIMARY KEY,          -- post-order number, merkle.node_position
    hash        BLOB NOT NULL                 -- of a perfect subtree (leaf hashes included)
);

CREATE TABLE checkpoints (
    tree_size   INTEGER PRIMARY KEY,
    root_hash   BLOB NOT NULL,
    signed_at   TEXT NOT NULL,                -- UTC ISO 8601
    note        TEXT NOT NULL                 -- C2SP signed note, tlog-checkpoint body
);

-- The brand reads of each member, one row per entry, written with it (consent/access_index.py).
CREATE TABLE access_index (
    principal   TEXT NOT NULL,                -- details.member of the entry
    seq         INTEGER NOT NULL,             -- the entry
    brand_id    TEXT NOT NULL,                -- its actor, less 'brand:'
    read_at     INTEGER NOT NULL,             -- its time, Unix seconds
    PRIMARY KEY (principal, seq)
) WITHOUT ROWID;
CREATE INDEX access_index_by_time ON access_index (principal, read_at, seq);

-- Per access spool, the last record appended here, moved in the transaction that appends the
-- records (consent/spool.py).
CREATE TABLE spool_marks (
    spool           TEXT PRIMARY KEY,         -- the spool's id
    merged_through  INTEGER NOT NULL          -- its last record in the ledger
) WITHOUT ROWID;
