-- An intent's ``num`` is what its pseudonym at each brand encrypts (intents/pseudonyms.py), so
-- a number must name one intent for ever. Without AUTOINCREMENT, SQLite gives a new row the
-- largest ``num`` in the table plus one: once a member's erasure deleted the newest intents,
-- the next member's intent took the erased one's number, and every brand saw it under the
-- erased intent's id (and its offers' ``intent`` pointed at it). With AUTOINCREMENT the
-- largest number ever given is kept in ``sqlite_sequence`` and never given again, as
-- PostgreSQL's identity column never did.
--
-- Of the data store's other integer keys, none reaches a brand in any form: an offer's ``num``
-- is the key its spam reports point at (a brand knows the offer by its random 'off_' id),
-- members, feedback and webhook endpoints and outbox rows already had AUTOINCREMENT (an
-- endpoint is known by its 'whk_' id since 0011), and the data subject requests' results and
-- history and the processing restrictions stay inside the vault.
--
-- A number an erasure freed before this migration ran, above the largest left, cannot be told
-- from the store: the sequence starts at the largest left.
--
-- AUTOINCREMENT is part of the table, so the table is rebuilt as 0010 and 0011 rebuilt theirs
-- (foreign keys off while it runs; offers keep pointing at the same nums).
CREATE TABLE intents_new (
    num            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    member_num     INTEGER NOT NULL REFERENCES members(num) ON DELETE CASCADE,
    category       TEXT NOT NULL,
    status         TEXT NOT NULL
        CHECK (status IN ('open', 'paused', 'withdrawn', 'expired', 'fulfilled')),
    budget_min     INTEGER NOT NULL CHECK (budget_min >= 0),
    budget_max     INTEGER NOT NULL CHECK (budget_max >= budget_min),
    currency       TEXT NOT NULL,
    window_from    TEXT NOT NULL,            -- ISO dates: they compare as text
    window_until   TEXT NOT NULL CHECK (window_until >= window_from),
    country        TEXT,
    region         TEXT,
    description    BLOB NOT NULL,
    city           BLOB,
    reveal_fields  TEXT NOT NULL,            -- JSON array of profile keys
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
INSERT INTO intents_new SELECT * FROM intents ORDER BY num;
DROP TABLE intents;
ALTER TABLE intents_new RENAME TO intents;
-- The listing: open intents of one category, newest first (one walk per category).
CREATE INDEX intents_open_by_category ON intents (category, num) WHERE status = 'open';
CREATE INDEX intents_by_member ON intents (member_num, num);
CREATE INDEX intents_live_by_expiry ON intents (expires_at) WHERE status IN ('open', 'paused');
