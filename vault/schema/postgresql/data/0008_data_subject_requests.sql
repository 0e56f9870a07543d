-- Data subject requests (compliance/requests.py) and the processing restrictions they make
-- (consent/restrictions.py): the tables of sqlite/data/0008_data_subject_requests.sql, laid out
-- by the rules at the head of 0001_baseline.sql.
--
-- A request outlives its member: once the member is erased, ``member_num`` is NULL and only
-- ``principal`` (the member's ledger pseudonym) names them. So a request is no member's row: it
-- could not keep a ``member_id`` that goes with the member, and a member-owned row cannot lose
-- its owner. ``dsr_requests``, ``dsr_tasks`` and ``dsr_history`` are shared tables (reference
-- tables under Citus: the officers' queue reads every member's, a brand reads its tasks by its
-- ``uid``), with no foreign key to ``members``: ``member_num`` is a plain column, and the
-- member's erasure sets it to NULL (vault/postgresql/erasure.py; SQLite's ``ON DELETE SET
-- NULL``); the repository reads the member's id back through ``members``, so a request whose
-- member is gone names nobody either way. ``dsr_results`` (the documents a brand returned,
-- the bulk of these tables) is read by its task only: it is distributed by ``task_uid``.
-- Restrictions are the member's own and go with them: ``processing_restrictions`` is
-- member-owned.
CREATE TABLE dsr_requests (
    id                TEXT PRIMARY KEY,                 -- 'dsr_' and 24 hex digits
    member_num        BIGINT,                           -- members.num; NULL once erased
    principal         TEXT NOT NULL,
    regime            TEXT NOT NULL CHECK (regime IN ('gdpr', 'ccpa')),
    kind              TEXT NOT NULL CHECK (kind IN (
                          'access', 'rectification', 'erasure', 'restriction', 'objection',
                          'portability', 'know', 'delete', 'correct', 'opt_out_sale_sharing',
                          'limit_sensitive')),
    source            TEXT NOT NULL CHECK (source IN ('member', 'gpc')),
    text_sealed       BYTEA,
    state             TEXT NOT NULL CHECK (state IN ('received', 'in_progress', 'closed')),
    received_at       BIGINT NOT NULL,
    received_on       TEXT NOT NULL,
    confirm_by        TEXT,                             -- CCPA sec. 7021(a)
    confirmed_at      BIGINT,
    due_on            TEXT NOT NULL,                    -- as extended, if it was
    extended_at       BIGINT,
    extension_reason  TEXT,                             -- the reasoned notice's reason
    fulfilled_at      BIGINT,                           -- the vault's own part done
    fulfilment        TEXT,                             -- what the vault did (e.g. 'export')
    closed_at         BIGINT,
    reminder_level    TEXT NOT NULL DEFAULT 'green'
                      CHECK (reminder_level IN ('green', 'amber', 'red', 'overdue'))
);
-- The officers' queue: open requests by time left (overdue first), a partial index.
CREATE INDEX dsr_open_by_due ON dsr_requests (due_on, received_at, id) WHERE state <> 'closed';
CREATE INDEX dsr_by_member ON dsr_requests (member_num, received_at);
CREATE INDEX dsr_by_state ON dsr_requests (state, received_at);

-- One task per brand a request was forwarded to, named to the brand by ``uid`` (its own:
-- the request id never leaves the vault, two brands share nothing) and the member by the
-- brand's pairwise ``subject``. Shared, as its request is.
CREATE TABLE dsr_tasks (
    uid          TEXT PRIMARY KEY,                      -- a UUID, the brand's handle
    request_id   TEXT NOT NULL REFERENCES dsr_requests (id) ON DELETE CASCADE,
    brand_id     TEXT NOT NULL REFERENCES brands (id),
    subject      TEXT NOT NULL,
    message      TEXT NOT NULL CHECK (message IN ('AccessRequest', 'DeleteRequest',
                     'CorrectionRequest', 'RestrictProcessingRequest')),
    state        TEXT NOT NULL CHECK (state IN ('pending', 'in_progress', 'completed',
                     'cancelled', 'denied')),
    reason       TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    closed_at    BIGINT,
    UNIQUE (request_id, brand_id)
);
CREATE INDEX dsr_tasks_by_brand ON dsr_tasks (brand_id, created_at);

-- What a brand returned for an access request: documents sealed under the member's key.
-- Distributed by ``task_uid`` (first in its key), the one thing it is read by; ``id`` is unique
-- by its identity sequence, and orders a task's documents as they came.
CREATE TABLE dsr_results (
    id               BIGINT GENERATED ALWAYS AS IDENTITY,
    task_uid         TEXT NOT NULL REFERENCES dsr_tasks (uid) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    media_type       TEXT NOT NULL,
    size             BIGINT NOT NULL,
    document_sealed  BYTEA NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (task_uid, id)
);

-- Every state change of a request or of one of its tasks (``task_uid`` NULL: the request's
-- own), appended, never changed: the time to close is read from here. Shared, as its request
-- is; ``id`` (an identity) is the order they were written in.
CREATE TABLE dsr_history (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id   TEXT NOT NULL REFERENCES dsr_requests (id) ON DELETE CASCADE,
    task_uid     TEXT,
    state        TEXT NOT NULL,
    reason       TEXT,
    at           BIGINT NOT NULL
);
CREATE INDEX dsr_history_by_request ON dsr_history (request_id, id);

-- Restrictions of processing a member asked for (GDPR Art. 18 restriction, Art. 21 objection,
-- CPRA limit on sensitive personal information): the decision point refuses what they cover
-- while they hold. ``brand_id`` NULL: every brand; ``scope`` 'all' or 'sensitive' (sensitive
-- fields only). Member-owned: erasing the member deletes them (ON DELETE CASCADE). ``id`` is
-- unique by its identity sequence (the contract hands it out; never reused); ``request_id``
-- names a shared request, so it is no foreign key, as on SQLite.
CREATE TABLE processing_restrictions (
    member_id    TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    id           BIGINT GENERATED ALWAYS AS IDENTITY,
    member_num   BIGINT NOT NULL,
    brand_id     TEXT REFERENCES brands (id),
    scope        TEXT NOT NULL CHECK (scope IN ('all', 'sensitive')),
    basis        TEXT NOT NULL CHECK (basis IN ('restriction', 'objection', 'limit_sensitive')),
    request_id   TEXT,
    since        BIGINT NOT NULL,
    lifted_at    BIGINT,
    PRIMARY KEY (member_id, id)
);
CREATE INDEX processing_restrictions_live ON processing_restrictions (member_id, brand_id)
    WHERE lifted_at IS NULL;

-- The webhook outbox takes the data subject requests' event types (brand_gateway/dsr.py).
-- SQLite rebuilds the table for its CHECK; here the CHECK is replaced in place, whatever
-- 0001 named it.
DO $$
DECLARE
    found record;
BEGIN
    FOR found IN
        SELECT conname FROM pg_constraint
        WHERE conrelid = 'webhook_outbox'::regclass AND contype = 'c'
          AND pg_get_constraintdef(oid) LIKE '%event_type%'
    LOOP
        EXECUTE format('ALTER TABLE webhook_outbox DROP CONSTRAINT %I', found.conname);
    END LOOP;
END
$$;
ALTER TABLE webhook_outbox ADD CONSTRAINT webhook_outbox_event_type_check
    CHECK (event_type IN ('consent.withdrawn', 'consent.expired', 'member.erased',
                          'authorization.ended', 'dsr.access', 'dsr.delete',
                          'dsr.correction', 'dsr.restrict_processing'));
