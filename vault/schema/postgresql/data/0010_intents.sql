-- Intent casting (issue 16; intents/): the tables of sqlite/data/0010_intents.sql, laid out by the
-- rules at the head of 0001_baseline.sql. Members' intents, brands' offers on them, the brands a
-- member blocked from their intents, and spam reports for the compliance console.
--
-- An intent's ``num`` is what its per-brand pseudonyms encrypt (intents/pseudonyms.py) and the
-- listing's order (newest first): an identity here, so it is unique across members by
-- construction and never handed out twice. Structured values a brand filters on (category,
-- budget in minor units, currency, window, country and region codes) are columns; what the
-- member wrote (description, city) and what a brand wrote to the member (terms, message, the
-- signed offer) are sealed under the member's key, bound to member, record and field.
--
-- Intents, the offers on them and a member's blocks are member-owned: erasing the member
-- deletes them (ON DELETE CASCADE, offers through their intent). Their ``id``s ('int_' and
-- 'off_' and 24 random hex digits) and ``num``s are unique by construction, and only indexed.
-- A spam report outlives both its member and its offer, as the evidence against the brand:
-- it is shared (the console reads every member's), with no foreign key to either; the
-- member's erasure empties its ``reason`` and sets ``member_num`` and ``offer_num`` to NULL
-- (vault/postgresql/erasure.py; SQLite's ``ON DELETE SET NULL``).
CREATE TABLE intents (
    member_id      TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    num            BIGINT GENERATED ALWAYS AS IDENTITY,
    id             TEXT NOT NULL,
    member_num     BIGINT NOT NULL,
    category       TEXT NOT NULL,
    status         TEXT NOT NULL
        CHECK (status IN ('open', 'paused', 'withdrawn', 'expired', 'fulfilled')),
    budget_min     BIGINT NOT NULL CHECK (budget_min >= 0),
    budget_max     BIGINT NOT NULL CHECK (budget_max >= budget_min),
    currency       TEXT NOT NULL,
    window_from    TEXT NOT NULL,            -- ISO dates: they compare as text
    window_until   TEXT NOT NULL CHECK (window_until >= window_from),
    country        TEXT,
    region         TEXT,
    description    BYTEA NOT NULL,
    city           BYTEA,
    reveal_fields  TEXT NOT NULL,            -- JSON array of profile keys
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    PRIMARY KEY (member_id, num)             -- and the member's intents, newest first
);
CREATE INDEX intents_by_num ON intents (num);
CREATE INDEX intents_by_id ON intents (id);
-- The listing: open intents of one category, newest first (one walk per category).
CREATE INDEX intents_open_by_category ON intents (category, num) WHERE status = 'open';
CREATE INDEX intents_live_by_expiry ON intents (expires_at) WHERE status IN ('open', 'paused');

CREATE TABLE intent_offers (
    member_id      TEXT NOT NULL,            -- the intent's member
    num            BIGINT GENERATED ALWAYS AS IDENTITY,
    id             TEXT NOT NULL,
    intent_num     BIGINT NOT NULL,
    brand_id       TEXT NOT NULL REFERENCES brands (id),
    price          BIGINT NOT NULL CHECK (price > 0),
    currency       TEXT NOT NULL,
    terms          BYTEA NOT NULL,
    message        BYTEA NOT NULL,
    signed         BYTEA NOT NULL,
    valid_until    BIGINT NOT NULL,
    status         TEXT NOT NULL
        CHECK (status IN ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
    grant_id       TEXT,
    fields         TEXT,                     -- accepted: JSON array of what was revealed
    created_at     BIGINT NOT NULL,
    decided_at     BIGINT,
    PRIMARY KEY (member_id, num),
    FOREIGN KEY (member_id, intent_num) REFERENCES intents (member_id, num) ON DELETE CASCADE
);
CREATE INDEX intent_offers_by_num ON intent_offers (num);
CREATE INDEX intent_offers_by_id ON intent_offers (id);
CREATE INDEX intent_offers_by_intent ON intent_offers (intent_num, brand_id);
CREATE INDEX intent_offers_by_brand ON intent_offers (brand_id, created_at);
CREATE INDEX intent_offers_open_by_validity ON intent_offers (valid_until) WHERE status = 'open';

CREATE TABLE intent_blocks (
    member_id      TEXT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    brand_id       TEXT NOT NULL REFERENCES brands (id),
    member_num     BIGINT NOT NULL,
    blocked_at     BIGINT NOT NULL,
    PRIMARY KEY (member_id, brand_id)
);

CREATE TABLE intent_spam_reports (
    id             TEXT PRIMARY KEY,
    offer_num      BIGINT,                   -- intent_offers.num; NULL once the offer is gone
    member_num     BIGINT,                   -- members.num; NULL once the member is erased
    brand_id       TEXT NOT NULL REFERENCES brands (id),
    reason         BYTEA,                    -- sealed under the member's key
    status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dismissed', 'upheld')),
    reported_at    BIGINT NOT NULL,
    decided_at     BIGINT,
    decided_by     TEXT
);
CREATE INDEX intent_spam_reports_by_status ON intent_spam_reports (status, reported_at);
CREATE INDEX intent_spam_reports_by_offer ON intent_spam_reports (offer_num);
CREATE INDEX intent_spam_reports_by_member ON intent_spam_reports (member_num);

-- Opt-in webhook subscriptions (brand_gateway/webhooks/): an endpoint gets an event type listed
-- here for it (``intent.created``, optionally for one category); with no row, only the events
-- every endpoint gets. Shared, as its endpoint is.
CREATE TABLE webhook_endpoint_events (
    endpoint_id    BIGINT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_type     TEXT NOT NULL,
    category       TEXT
);
CREATE UNIQUE INDEX webhook_endpoint_events_unique
    ON webhook_endpoint_events (endpoint_id, event_type, COALESCE(category, ''));
CREATE INDEX webhook_endpoint_events_by_type ON webhook_endpoint_events (event_type, category);

-- The webhook outbox takes intent casting's event types: its CHECK is replaced in place, as
-- 0008 did (SQLite rebuilds the table for it).
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
                          'dsr.correction', 'dsr.restrict_processing',
                          'intent.created', 'offer.accepted', 'offer.declined',
                          'offer.expired'));
