-- Closing the loop (community/loop.py, community/care.py).
--
-- "You said, we did": what a brand changed after listening, posted against one touchpoint, one
-- survey or one idea of its own. ``release`` is the aggregate members are shown beside it (the
-- JSON of a differentially private release made once, when the post was made: never
-- recomputed, so showing it spends nothing and tells nothing new). Posts are withdrawn, never
-- deleted: a member who saw one can still be told it was taken back.
CREATE TABLE wedid_posts (
    id            TEXT PRIMARY KEY,                 -- 'wedid_' and 24 hex digits
    brand_id      TEXT NOT NULL REFERENCES brands(id),
    subject_kind  TEXT NOT NULL CHECK (subject_kind IN ('touchpoint', 'survey', 'idea')),
    subject_ref   TEXT NOT NULL,                    -- touchpoint key, survey id or idea id
    said          TEXT NOT NULL,                    -- what the brand heard
    did           TEXT NOT NULL,                    -- what it changed
    changed_on    TEXT NOT NULL,                    -- when the change took effect (YYYY-MM-DD)
    release       TEXT,                             -- JSON, see above; NULL: nothing released
    posted_at     INTEGER NOT NULL,
    withdrawn_at  INTEGER
);
CREATE INDEX wedid_by_brand ON wedid_posts (brand_id, posted_at);
CREATE INDEX wedid_by_subject ON wedid_posts (subject_kind, subject_ref);

-- Care cases: a member who gave a low score asked the brand to get back to them, under a
-- one-time individual grant for dpv:CustomerCare (grant_id). The case names the entry it is
-- about (a feedback entry id, or a survey id) and, only if the member chose one, the contact
-- field the brand may read. The brand's answer is sealed under the member's key (erasure
-- shreds it). Erasing the member deletes their cases (ON DELETE CASCADE).
CREATE TABLE care_cases (
    id              TEXT PRIMARY KEY,               -- 'care_' and 24 hex digits
    member_num      INTEGER NOT NULL REFERENCES members(num) ON DELETE CASCADE,
    brand_id        TEXT NOT NULL REFERENCES brands(id),
    grant_id        TEXT NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('feedback', 'survey')),
    source_ref      TEXT NOT NULL,
    contact_field   TEXT,
    state           TEXT NOT NULL CHECK (state IN ('open', 'answered', 'closed')),
    answer_sealed   BLOB,
    opened_at       INTEGER NOT NULL,
    ends_at         INTEGER NOT NULL,
    answered_at     INTEGER,
    closed_at       INTEGER,
    closed_by       TEXT CHECK (closed_by IN ('member', 'brand', 'expiry'))
);
CREATE INDEX care_cases_by_member ON care_cases (member_num);
CREATE INDEX care_cases_by_brand ON care_cases (brand_id, state, opened_at);
