-- Data subject requests (compliance/requests.py) and the processing restrictions they make
-- (consent/restrictions.py).
--
-- A request outlives the member's erasure: ``member_num`` is set to NULL when the member's row
-- goes, and ``principal`` (the member's ledger pseudonym) keeps naming them to officers. What
-- the member wrote is sealed under their key (erasure shreds it). Dates are UTC calendar days
-- (YYYY-MM-DD), as the law counts them; times are Unix seconds.
CREATE TABLE dsr_requests (
    id                TEXT PRIMARY KEY,                 -- 'dsr_' and 24 hex digits
    member_num        INTEGER REFERENCES members(num) ON DELETE SET NULL,
    principal         TEXT NOT NULL,
    regime            TEXT NOT NULL CHECK (regime IN ('gdpr', 'ccpa')),
    kind              TEXT NOT NULL CHECK (kind IN (
                          'access', 'rectification', 'erasure', 'restriction', 'objection',
                          'portability', 'know', 'delete', 'correct', 'opt_out_sale_sharing',
                          'limit_sensitive')),
    source            TEXT NOT NULL CHECK (source IN ('member', 'gpc')),
    text_sealed       BLOB,
    state             TEXT NOT NULL CHECK (state IN ('received', 'in_progress', 'closed')),
    received_at       INTEGER NOT NULL,
    received_on       TEXT NOT NULL,
    confirm_by        TEXT,                             -- CCPA sec. 7021(a)
    confirmed_at      INTEGER,
    due_on            TEXT NOT NULL,                    -- as extended, if it was
    extended_at       INTEGER,
    extension_reason  TEXT,                             -- the reasoned notice's reason
    fulfilled_at      INTEGER,                          -- the vault's own part done
    fulfilment        TEXT,                             -- what the vault did (e.g. 'export')
    closed_at         INTEGER,
    reminder_level    TEXT NOT NULL DEFAULT 'green'
                      CHECK (reminder_level IN ('green', 'amber', 'red', 'overdue'))
);
-- The officers' queue: open requests by time left (overdue first), a partial index.
CREATE INDEX dsr_open_by_due ON dsr_requests (due_on, received_at, id) WHERE state <> 'closed';
CREATE INDEX dsr_by_member ON dsr_requests (member_num, received_at);
CREATE INDEX dsr_by_state ON dsr_requests (state, received_at);

-- One task per brand a request was forwarded to, named to the brand by ``uid`` (its own:
-- the request id never leaves the vault, two brands share nothing) and the member by the
-- brand's pairwise ``subject``.
CREATE TABLE dsr_tasks (
    uid          TEXT PRIMARY KEY,                      -- a UUID, the brand's handle
    request_id   TEXT NOT NULL REFERENCES dsr_requests(id) ON DELETE CASCADE,
    brand_id     TEXT NOT NULL REFERENCES brands(id),
    subject      TEXT NOT NULL,
    message      TEXT NOT NULL CHECK (message IN ('AccessRequest', 'DeleteRequest',
                     'CorrectionRequest', 'RestrictProcessingRequest')),
    state        TEXT NOT NULL CHECK (state IN ('pending', 'in_progress', 'completed',
                     'cancelled', 'denied')),
    reason       TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    closed_at    INTEGER,
    UNIQUE (request_id, brand_id)
);
CREATE INDEX dsr_tasks_by_brand ON dsr_tasks (brand_id, created_at);

-- What a brand returned for an access request: documents sealed under the member's key.
CREATE TABLE dsr_results (
    id               INTEGER PRIMARY KEY,
    task_uid         TEXT NOT NULL REFERENCES dsr_tasks(uid) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    media_type       TEXT NOT NULL,
    size             INTEGER NOT NULL,
    document_sealed  BLOB NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX dsr_results_by_task ON dsr_results (task_uid);

-- Every state change of a request or of one of its tasks (``task_uid`` NULL: the request's
-- own), appended, never changed: the time to close is read from here.
CREATE TABLE dsr_history (
    id           INTEGER PRIMARY KEY,
    request_id   TEXT NOT NULL REFERENCES dsr_requests(id) ON DELETE CASCADE,
    task_uid     TEXT,
    state        TEXT NOT NULL,
    reason       TEXT,
    at           INTEGER NOT NULL
);
CREATE INDEX dsr_history_by_request ON dsr_history (request_id, id);

-- Restrictions of processing a member asked for (GDPR Art. 18 restriction, Art. 21 objection,
-- CPRA limit on sensitive personal information): the decision point refuses what they cover
-- while they hold. ``brand_id`` NULL: every brand; ``scope`` 'all' or 'sensitive' (sensitive
-- fields only). Erasing the member deletes them.
CREATE TABLE processing_restrictions (
    id           INTEGER PRIMARY KEY,
    member_num   INTEGER NOT NULL REFERENCES members(num) ON DELETE CASCADE,
    brand_id     TEXT REFERENCES brands(id),
    scope        TEXT NOT NULL CHECK (scope IN ('all', 'sensitive')),
    basis        TEXT NOT NULL CHECK (basis IN ('restriction', 'objection', 'limit_sensitive')),
    request_id   TEXT,
    since        INTEGER NOT NULL,
    lifted_at    INTEGER
);
CREATE INDEX processing_restrictions_live ON processing_restrictions (member_num, brand_id)
    WHERE lifted_at IS NULL;

-- The webhook outbox takes the data subject requests' event types (brand_gateway/dsr.py): its
-- CHECK is part of the table, so the table is rebuilt (SQLite's 12-step procedure, foreign
-- keys off while it runs; webhook_attempts keeps pointing at the same ids).
CREATE TABLE webhook_outbox_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoints(id),
    client_id        TEXT NOT NULL REFERENCES oauth_clients(client_id),
    event_type       TEXT NOT NULL
        CHECK (event_type IN ('consent.withdrawn', 'consent.expired', 'member.erased',
                              'authorization.ended', 'dsr.access', 'dsr.delete',
                              'dsr.correction', 'dsr.restrict_processing')),
    event_id         TEXT NOT NULL,           -- UUID; the webhook-id header
    payload          TEXT NOT NULL,           -- the exact JSON body that is signed
    status           TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,        -- also the lease of a claimed row
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER,
    UNIQUE (endpoint_id, event_id)
);
INSERT INTO webhook_outbox_new SELECT * FROM webhook_outbox;
DROP TABLE webhook_outbox;
ALTER TABLE webhook_outbox_new RENAME TO webhook_outbox;
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_outbox_by_client ON webhook_outbox (client_id, created_at);
