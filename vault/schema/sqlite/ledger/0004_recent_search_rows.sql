-- The newest entries' search rows, not yet in the search index (consent/sqlcipher/ledger.py).
-- An append writes its rows here, at the end of a table with no index but its seq; once this
-- table holds FOLD_ROWS of them, the append that reaches that many moves them all into
-- search_index and search_purposes, one statement each, and empties it. Nine B-trees ordered by
-- member, brand, tag and purpose take a fold's rows together, so each of their pages is written
-- once per fold, not once per batch of reads: the ledger's appends went from one page written
-- per entry in the member index alone to a fraction of one. Every search reads both tables.

CREATE TABLE search_recent (
    seq         INTEGER PRIMARY KEY,          -- as search_index
    at          INTEGER NOT NULL,
    tag         TEXT NOT NULL,
    brand       TEXT,
    principal   TEXT,
    purposes    TEXT
);
