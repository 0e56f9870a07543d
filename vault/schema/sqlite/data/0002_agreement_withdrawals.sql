-- A member may take back an offer the brand has not answered yet (IEEE 7012: the first party's
-- offer stands until it is answered or withdrawn): agreements.status gains 'withdrawn'.
-- Rebuilds agreements (SQLite cannot change a CHECK in place); no table references it.
CREATE TABLE agreements_new (
    id            TEXT PRIMARY KEY,
    member_id     TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    brand_id      TEXT NOT NULL REFERENCES brands(id),
    proffered     TEXT NOT NULL,
    countered     TEXT,
    status        TEXT NOT NULL
                  CHECK (status IN ('proffered', 'countered', 'agreed', 'rejected', 'withdrawn')),
    agreed        TEXT,
    record        TEXT,
    record_hash   TEXT,
    signature     TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
INSERT INTO agreements_new (id, member_id, brand_id, proffered, countered, status, agreed, record,
                            record_hash, signature, created_at, updated_at)
    SELECT id, member_id, brand_id, proffered, countered, status, agreed, record, record_hash,
           signature, created_at, updated_at
    FROM agreements ORDER BY rowid;
DROP TABLE agreements;
ALTER TABLE agreements_new RENAME TO agreements;
CREATE INDEX agreements_by_member ON agreements (member_id, brand_id);
