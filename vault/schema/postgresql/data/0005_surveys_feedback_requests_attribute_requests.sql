-- 0005_surveys_feedback_requests_attribute_requests.sql on PostgreSQL: the tables of
-- sqlite/data/0005_surveys_feedback_requests_attribute_requests.sql, by the rules in
-- 0001_baseline.sql.
--
-- The insight community's surveys, feedback requests and attribute requests. A brand publishes
-- them to one of its communities; members answer in their own vault. Invariants, as on SQLite:
--   * answers go with the member (ON DELETE CASCADE): an erased member leaves no answer, skip,
--     journal link or attribute-request response behind;
--   * a withdrawn answer is a deleted row, never a flag;
--   * structured answers are plain columns so aggregates are SQL over them; text is sealed
--     under the member's key and leaves the vault only to a brand granted individual use.
-- ``criteria`` is a JSON list of conditions on non-sensitive profile attributes, evaluated
-- inside the vault service, member by member, never in SQL.
--
-- Shared (reference tables under Citus): surveys, survey_questions, attribute_requests.
-- Member-owned (``member_id`` first in every key, ``member_num`` carried as SQLite keys them):
-- survey_answers, survey_skips, survey_journal_entries, attribute_request_responses. Their
-- foreign keys to shared tables stay; the journal link's to ``feedback`` is composite, on the
-- member.
CREATE TABLE surveys (
    id            TEXT PRIMARY KEY,
    brand_id      TEXT NOT NULL REFERENCES brands(id),
    community_id  TEXT NOT NULL REFERENCES communities(id),
    title         TEXT NOT NULL,
    touchpoint    TEXT,
    kind          TEXT NOT NULL CHECK (kind IN ('survey', 'feedback_request')),
    opens_at      BIGINT NOT NULL,
    closes_at     BIGINT NOT NULL CHECK (closes_at > opens_at),
    criteria      TEXT NOT NULL DEFAULT '[]',
    published_at  BIGINT NOT NULL
);
CREATE INDEX surveys_by_community ON surveys (community_id, closes_at);
CREATE INDEX surveys_by_brand ON surveys (brand_id, published_at);

CREATE TABLE survey_questions (
    survey_id  TEXT NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL CHECK (position >= 0),
    kind       TEXT NOT NULL CHECK (kind IN ('rating', 'nps', 'single', 'multiple', 'text')),
    prompt     TEXT NOT NULL,
    choices    TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (survey_id, position)
);

-- ``value``: rating 1-5, NPS 0-10, or the index of the single choice; ``choices``: the bitmask
-- of the multiple choices (up to 63 bits, as SQLite's integer); ``text_sealed``: a short text
-- answer, sealed. One row per question answered.
CREATE TABLE survey_answers (
    member_id    TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    survey_id    TEXT NOT NULL,
    position     INTEGER NOT NULL,
    member_num   BIGINT NOT NULL,
    value        INTEGER,
    choices      BIGINT,
    text_sealed  BYTEA,
    answered_at  BIGINT NOT NULL,
    PRIMARY KEY (member_id, survey_id, position),
    FOREIGN KEY (survey_id, position) REFERENCES survey_questions (survey_id, position)
        ON DELETE CASCADE
);
CREATE INDEX survey_answers_by_survey ON survey_answers (survey_id, member_num, position);
CREATE INDEX survey_answers_by_member ON survey_answers (member_num, survey_id);

-- A member who chose not to answer a survey: it leaves their list of things asked.
CREATE TABLE survey_skips (
    member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    survey_id   TEXT NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    member_num  BIGINT NOT NULL,
    skipped_at  BIGINT NOT NULL,
    PRIMARY KEY (member_id, survey_id)
);
CREATE INDEX survey_skips_by_member ON survey_skips (member_num);

-- The journal entry a feedback request's answer made (vault/feedback.py). Deleting the entry
-- from the journal deletes the link (the answer stays until withdrawn).
CREATE TABLE survey_journal_entries (
    member_id    TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    survey_id    TEXT NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    member_num   BIGINT NOT NULL,
    feedback_id  BIGINT NOT NULL,
    PRIMARY KEY (member_id, survey_id),
    FOREIGN KEY (member_id, feedback_id) REFERENCES feedback (member_id, id) ON DELETE CASCADE
);
CREATE INDEX survey_journal_entries_by_member ON survey_journal_entries (member_num);
CREATE INDEX survey_journal_entries_by_entry ON survey_journal_entries (member_id, feedback_id);

-- Progressive profiling: a brand asks its community for one non-sensitive profile attribute.
CREATE TABLE attribute_requests (
    id            TEXT PRIMARY KEY,
    brand_id      TEXT NOT NULL REFERENCES brands(id),
    community_id  TEXT NOT NULL REFERENCES communities(id),
    attribute     TEXT NOT NULL,
    reason        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    closes_at     BIGINT NOT NULL
);
CREATE INDEX attribute_requests_by_community ON attribute_requests (community_id, closes_at);
CREATE INDEX attribute_requests_by_brand ON attribute_requests (brand_id, created_at);

CREATE TABLE attribute_request_responses (
    member_id     TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    request_id    TEXT NOT NULL REFERENCES attribute_requests(id) ON DELETE CASCADE,
    member_num    BIGINT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('shared', 'kept', 'declined')),
    responded_at  BIGINT NOT NULL,
    PRIMARY KEY (member_id, request_id)
);
CREATE INDEX attribute_request_responses_by_member ON attribute_request_responses (member_num);
