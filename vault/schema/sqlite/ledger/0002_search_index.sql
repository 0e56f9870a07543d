-- The ledger's search index (consent/ledger_search.py): per entry its time, tag, brand and
-- principal, and per purpose it names one row more, so that the compliance console and
-- 'vrmvault ledger export' find entries by brand, purpose, tag, time and pseudonym without
-- reading bodies. Beside the tree like access_index: derived from the entries, never signed or
-- proved, written by consent/ledger.py in the transaction of each append.
--
-- Every search walks one index of these in (at, seq) order, from a cursor, with its equality
-- filters as the index's leading columns and the time range on ``at``: a page costs its own
-- rows, however deep it is and however large the ledger (consent/sqlcipher/ledger_search.py
-- picks the index, and a test holds every filter combination to an index search).

CREATE TABLE search_index (
    seq         INTEGER PRIMARY KEY,          -- the entry
    at          INTEGER NOT NULL,             -- its time, Unix seconds (floored)
    tag         TEXT NOT NULL,                -- its tag
    brand       TEXT,                         -- details.brand, else the actor less 'brand:'
    principal   TEXT,                         -- details.member, else a 'member:' actor
    purposes    TEXT                          -- the purposes named, a sorted JSON array; NULL
                                              -- when none (search_purposes finds them)
);
CREATE INDEX search_by_time ON search_index (at, seq);
CREATE INDEX search_by_tag ON search_index (tag, at, seq);
CREATE INDEX search_by_brand ON search_index (brand, at, seq);
CREATE INDEX search_by_brand_tag ON search_index (brand, tag, at, seq);
CREATE INDEX search_by_principal ON search_index (principal, at, seq);

-- One row per purpose an entry names (details.purpose, details.purposes), with the columns
-- the purpose is searched with.
CREATE TABLE search_purposes (
    purpose     TEXT NOT NULL,
    at          INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    brand       TEXT,
    tag         TEXT NOT NULL,
    PRIMARY KEY (purpose, at, seq)
) WITHOUT ROWID;
CREATE INDEX search_purposes_by_brand ON search_purposes (purpose, brand, at, seq);
CREATE INDEX search_purposes_by_tag ON search_purposes (purpose, tag, at, seq);
CREATE INDEX search_purposes_by_brand_tag ON search_purposes (purpose, brand, tag, at, seq);

-- A ledger that already holds entries gets its rows here, in this migration's transaction, by
-- the rules consent/ledger_search.py's ``search_row`` applies to new ones (a test holds the
-- two equal). A body that is not JSON is left out: 'vrmvault ledger verify' names it.
INSERT INTO search_index (seq, at, tag, brand, principal, purposes)
SELECT seq,
       CAST(strftime('%s', json_extract(body, '$.time')) AS INTEGER),
       json_extract(body, '$.tag'),
       CASE WHEN json_type(body, '$.details.brand') = 'text'
                THEN json_extract(body, '$.details.brand')
            WHEN substr(json_extract(body, '$.actor'), 1, 6) = 'brand:'
                 AND length(json_extract(body, '$.actor')) > 6
                THEN substr(json_extract(body, '$.actor'), 7) END,
       CASE WHEN json_type(body, '$.details.member') = 'text'
                THEN json_extract(body, '$.details.member')
            WHEN substr(json_extract(body, '$.actor'), 1, 7) = 'member:'
                 AND length(json_extract(body, '$.actor')) > 7
                THEN json_extract(body, '$.actor') END,
       (SELECT json_group_array(named.purpose ORDER BY named.purpose) FROM (
            SELECT json_extract(body, '$.details.purpose') AS purpose
            WHERE json_type(body, '$.details.purpose') = 'text'
            UNION
            SELECT p.value FROM json_each(body, '$.details.purposes') AS p
            WHERE json_type(body, '$.details.purposes') = 'array' AND p.type = 'text'
        ) AS named HAVING count(*) > 0)
FROM (SELECT seq, CAST(body AS TEXT) AS body FROM entries)
WHERE json_valid(body) AND json_type(body, '$.tag') = 'text'
  AND json_type(body, '$.time') = 'text';

INSERT INTO search_purposes (purpose, at, seq, brand, tag)
SELECT p.value, s.at, s.seq, s.brand, s.tag
FROM search_index AS s, json_each(s.purposes) AS p
WHERE s.purposes IS NOT NULL;
