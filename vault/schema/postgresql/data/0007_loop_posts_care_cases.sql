-- 0007_loop_posts_care_cases.sql on PostgreSQL: the tables of
-- sqlite/data/0007_loop_posts_care_cases.sql, by the rules in 0001_baseline.sql.
--
-- Closing the loop (community/loop.py, community/care.py).
--
-- "You said, we did": what a brand changed after listening, posted against one touchpoint, one
-- survey or one idea of its own. ``release`` is the aggregate members are shown beside it (the
-- JSON of a differentially private release made once, when the post was made). Posts are
-- withdrawn, never deleted. A brand's post, no member's: shared (a reference table under
-- Citus; every member's page reads the posts about what they took part in).
CREATE TABLE wedid_posts (
    id            TEXT PRIMARY KEY,                 -- 'wedid_' and 24 hex digits
    brand_id      TEXT NOT NULL REFERENCES brands(id),
    subject_kind  TEXT NOT NULL CHECK (subject_kind IN ('touchpoint', 'survey', 'idea')),
    subject_ref   TEXT NOT NULL,                    -- touchpoint key, survey id or idea id
    said          TEXT NOT NULL,                    -- what the brand heard
    did           TEXT NOT NULL,                    -- what it changed
    changed_on    TEXT NOT NULL,                    -- when the change took effect (YYYY-MM-DD)
    release       TEXT,                             -- JSON, see above; NULL: nothing released
    posted_at     BIGINT NOT NULL,
    withdrawn_at  BIGINT
);
CREATE INDEX wedid_by_brand ON wedid_posts (brand_id, posted_at);
CREATE INDEX wedid_by_subject ON wedid_posts (subject_kind, subject_ref);

-- Care cases: a member who gave a low score asked the brand to get back to them, under a
-- one-time individual grant for dpv:CustomerCare (grant_id). The brand's answer is sealed under
-- the member's key (erasure shreds it). Member-owned: ``member_id`` first in the key, and the
-- case goes with its member (ON DELETE CASCADE). A case's id is random ('care_' and 24 hex
-- digits), unique by construction and indexed: the brand's side finds a case by its id alone.
CREATE TABLE care_cases (
    member_id       TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    member_num      BIGINT NOT NULL,
    brand_id        TEXT NOT NULL REFERENCES brands(id),
    grant_id        TEXT NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('feedback', 'survey')),
    source_ref      TEXT NOT NULL,
    contact_field   TEXT,
    state           TEXT NOT NULL CHECK (state IN ('open', 'answered', 'closed')),
    answer_sealed   BYTEA,
    opened_at       BIGINT NOT NULL,
    ends_at         BIGINT NOT NULL,
    answered_at     BIGINT,
    closed_at       BIGINT,
    closed_by       TEXT CHECK (closed_by IN ('member', 'brand', 'expiry')),
    PRIMARY KEY (member_id, id)
);
CREATE INDEX care_cases_by_id ON care_cases (id);
CREATE INDEX care_cases_by_brand ON care_cases (brand_id, state, opened_at);
CREATE INDEX care_cases_live_by_end ON care_cases (ends_at) WHERE state <> 'closed';
