-- The insight community's surveys, feedback requests and attribute requests (progressive
-- profiling). A brand publishes them to one of its communities; members answer in their own
-- vault. Invariants:
--   * answers point at the member by ``num`` and go with the member (ON DELETE CASCADE): an
--     erased member leaves no answer, skip, journal link or attribute-request response behind;
--   * a withdrawn answer is a deleted row, never a flag;
--   * structured answers are plain columns (inside SQLCipher) so aggregates are SQL over them;
--     text is sealed under the member's key (vault/sealing.py: bound to member, survey, field),
--     and leaves the vault only to a brand the member granted individual use.
-- ``criteria`` is a JSON list of conditions on non-sensitive profile attributes
-- (community/surveys.py says the format); profile values are sealed, so criteria are evaluated
-- inside the vault service, member by member, never in SQL.
CREATE TABLE surveys (
    id            TEXT PRIMARY KEY,
    brand_id      TEXT NOT NULL REFERENCES brands(id),
    community_id  TEXT NOT NULL REFERENCES communities(id),
    title         TEXT NOT NULL,
    touchpoint    TEXT,
    kind          TEXT NOT NULL CHECK (kind IN ('survey', 'feedback_request')),
    opens_at      INTEGER NOT NULL,
    closes_at     INTEGER NOT NULL CHECK (closes_at > opens_at),
    criteria      TEXT NOT NULL DEFAULT '[]',
    published_at  INTEGER NOT NULL
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
) WITHOUT ROWID;

-- ``value``: rating 1-5, NPS 0-10, or the index of the single choice; ``choices``: the bitmask
-- of the multiple choices; ``text_sealed``: a short text answer, sealed. One row per question
-- answered; a member's answer to a survey is their rows of it.
CREATE TABLE survey_answers (
    survey_id    TEXT NOT NULL,
    member_num   INTEGER NOT NULL REFERENCES members(num) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    value        INTEGER,
    choices      INTEGER,
    text_sealed  BLOB,
    answered_at  INTEGER NOT NULL,
    PRIMARY KEY (survey_id, member_num, position),
    FOREIGN KEY (survey_id, position) REFERENCES survey_questions (survey_id, position)
        ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX survey_answers_by_member ON survey_answers (member_num, survey_id);

-- A member who chose not to answer a survey: it leaves their list of things asked.
CREATE TABLE survey_skips (
    survey_id   TEXT NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    member_num  INTEGER NOT NULL REFERENCES members(num) ON DELETE CASCADE,
    skipped_at  INTEGER NOT NULL,
    PRIMARY KEY (survey_id, member_num)
) WITHOUT ROWID;
CREATE INDEX survey_skips_by_member ON survey_skips (member_num);

-- The journal entry a feedback request's answer made (vault/feedback.py), so that changing the
-- answer changes the entry and withdrawing it deletes the entry. Deleting the entry from the
-- journal deletes the link (the answer stays until withdrawn).
CREATE TABLE survey_journal_entries (
    survey_id    TEXT NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    member_num   INTEGER NOT NULL REFERENCES members(num) ON DELETE CASCADE,
    feedback_id  INTEGER NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    PRIMARY KEY (survey_id, member_num)
) WITHOUT ROWID;
CREATE INDEX survey_journal_entries_by_member ON survey_journal_entries (member_num);
CREATE INDEX survey_journal_entries_by_entry ON survey_journal_entries (feedback_id);

-- Progressive profiling: a brand asks its community for one non-sensitive profile attribute.
-- The member fills it in their own profile (profile_values) or not; ``counted`` records whether
-- they also added it to their grants to the brand (the grant, with its receipt, is the consent;
-- this row only keeps the request off their list).
CREATE TABLE attribute_requests (
    id            TEXT PRIMARY KEY,
    brand_id      TEXT NOT NULL REFERENCES brands(id),
    community_id  TEXT NOT NULL REFERENCES communities(id),
    attribute     TEXT NOT NULL,
    reason        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    closes_at     INTEGER NOT NULL
);
CREATE INDEX attribute_requests_by_community ON attribute_requests (community_id, closes_at);
CREATE INDEX attribute_requests_by_brand ON attribute_requests (brand_id, created_at);

CREATE TABLE attribute_request_responses (
    request_id    TEXT NOT NULL REFERENCES attribute_requests(id) ON DELETE CASCADE,
    member_num    INTEGER NOT NULL REFERENCES members(num) ON DELETE CASCADE,
    outcome       TEXT NOT NULL CHECK (outcome IN ('shared', 'kept', 'declined')),
    responded_at  INTEGER NOT NULL,
    PRIMARY KEY (request_id, member_num)
) WITHOUT ROWID;
CREATE INDEX attribute_request_responses_by_member ON attribute_request_responses (member_num);
