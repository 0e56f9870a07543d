-- Intent casting (issue 16; intents/): members' intents, brands' offers on them, the brands a
-- member blocked from their intents, and spam reports for the compliance console.
--
-- An intent's ``num`` is what its per-brand pseudonyms encrypt (intents/pseudonyms.py) and the
-- listing's order (newest first). Structured values a brand filters on (category, budget in
-- minor units, currency, window, country and region codes) are columns; what the member wrote
-- (description, city) and what a brand wrote to the member (terms, message, the signed offer)
-- are sealed under the member's key, bound to member, record and field. Erasing the member
-- deletes their intents and, with them, the offers on them; a spam report outlives both as
-- the evidence against the brand, without the member or the reason.
CREATE TABLE intents (
    num            INTEGER PRIMARY KEY,
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
-- The listing: open intents of one category, newest first (one walk per category).
CREATE INDEX intents_open_by_category ON intents (category, num) WHERE status = 'open';
CREATE INDEX intents_by_member ON intents (member_num, num);
CREATE INDEX intents_live_by_expiry ON intents (expires_at) WHERE status IN ('open', 'paused');

CREATE TABLE intent_offers (
    num            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    intent_num     INTEGER NOT NULL REFERENCES intents(num) ON DELETE CASCADE,
    brand_id       TEXT NOT NULL REFERENCES brands(id),
    price          INTEGER NOT NULL CHECK (price > 0),
    currency       TEXT NOT NULL,
    terms          BLOB NOT NULL,
    message        BLOB NOT NULL,
    signed         BLOB NOT NULL,
    valid_until    INTEGER NOT NULL,
    status         TEXT NOT NULL
        CHECK (status IN ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
    grant_id       TEXT,
    fields         TEXT,                     -- accepted: JSON array of what was revealed
    created_at     INTEGER NOT NULL,
    decided_at     INTEGER
);
CREATE INDEX intent_offers_by_intent ON intent_offers (intent_num, brand_id);
CREATE INDEX intent_offers_by_brand ON intent_offers (brand_id, created_at);
CREATE INDEX intent_offers_open_by_validity ON intent_offers (valid_until) WHERE status = 'open';

CREATE TABLE intent_blocks (
    member_num     INTEGER NOT NULL REFERENCES members(num) ON DELETE CASCADE,
    brand_id       TEXT NOT NULL REFERENCES brands(id),
    blocked_at     INTEGER NOT NULL,
    PRIMARY KEY (member_num, brand_id)
) WITHOUT ROWID;

CREATE TABLE intent_spam_reports (
    id             TEXT PRIMARY KEY,
    offer_num      INTEGER REFERENCES intent_offers(num) ON DELETE SET NULL,
    member_num     INTEGER REFERENCES members(num) ON DELETE SET NULL,
    brand_id       TEXT NOT NULL REFERENCES brands(id),
    reason         BLOB,                     -- sealed under the member's key
    status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dismissed', 'upheld')),
    reported_at    INTEGER NOT NULL,
    decided_at     INTEGER,
    decided_by     TEXT
);
CREATE INDEX intent_spam_reports_by_status ON intent_spam_reports (status, reported_at);
CREATE INDEX intent_spam_reports_by_offer ON intent_spam_reports (offer_num);
CREATE INDEX intent_spam_reports_by_member ON intent_spam_reports (member_num);

-- Opt-in webhook subscriptions (brand_gateway/webhooks/): an endpoint gets an event type listed
-- here for it (``intent.created``, optionally for one category); with no row, only the events
-- every endpoint gets.
CREATE TABLE webhook_endpoint_events (
    endpoint_id    INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_type     TEXT NOT NULL,
    category       TEXT
);
CREATE UNIQUE INDEX webhook_endpoint_events_unique
    ON webhook_endpoint_events (endpoint_id, event_type, IFNULL(category, ''));
CREATE INDEX webhook_endpoint_events_by_type ON webhook_endpoint_events (event_type, category);

-- The webhook outbox takes intent casting's event types: its CHECK is part of the table, so the
-- table is rebuilt as 0008 did (foreign keys off while it runs; webhook_attempts keeps pointing
-- at the same ids).
CREATE TABLE webhook_outbox_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoints(id),
    client_id        TEXT NOT NULL REFERENCES oauth_clients(client_id),
    event_type       TEXT NOT NULL
        CHECK (event_type IN ('consent.withdrawn', 'consent.expired', 'member.erased',
                              'authorization.ended', 'dsr.access', 'dsr.delete',
                              'dsr.correction', 'dsr.restrict_processing',
                              'intent.created', 'offer.accepted', 'offer.declined',
                              'offer.expired')),
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
