-- The ledger's search index (consent/ledger_search.py), as sqlite/ledger/0002_search_index.sql:
-- per entry its time, tag, brand and principal, and per purpose it names one row more. No
-- ledger on PostgreSQL predates this migration (every one is made with the whole history), so
-- there are no entries to index here.

CREATE TABLE search_index (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    tag         TEXT NOT NULL,
    brand       TEXT,
    principal   TEXT,
    purposes    TEXT                          -- a sorted JSON array; NULL when none
);
CREATE INDEX search_by_time ON search_index (at, seq);
CREATE INDEX search_by_tag ON search_index (tag, at, seq);
CREATE INDEX search_by_brand ON search_index (brand, at, seq);
CREATE INDEX search_by_brand_tag ON search_index (brand, tag, at, seq);
CREATE INDEX search_by_principal ON search_index (principal, at, seq);

CREATE TABLE search_purposes (
    purpose     TEXT NOT NULL,
    at          BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    brand       TEXT,
    tag         TEXT NOT NULL,
    PRIMARY KEY (purpose, at, seq)
);
CREATE INDEX search_purposes_by_brand ON search_purposes (purpose, brand, at, seq);
CREATE INDEX search_purposes_by_tag ON search_purposes (purpose, tag, at, seq);
CREATE INDEX search_purposes_by_brand_tag ON search_purposes (purpose, brand, tag, at, seq);
