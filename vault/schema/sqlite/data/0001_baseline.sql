-- The data store: members and what they keep, consent, the brand gateway's clients, tokens and
-- webhooks. Columns appended by the pre-release history stay last in their tables, so a store
-- brought here by the upgrade step and a store made from this file hold the same schema.

-- Members and what they keep -------------------------------------------------------------------

-- Hot tables point at a member by ``num`` (an integer key: smaller indexes, fewer pages to
-- encrypt per commit); sealed values stay bound to the public ``id``.
CREATE TABLE members (
    num             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    email_index     BLOB NOT NULL UNIQUE,     -- keyed hash (blind index), never the address
    email_sealed    BLOB NOT NULL,
    password_hash   TEXT NOT NULL,
    totp_sealed     BLOB,
    totp_last_step  INTEGER,
    created_at      INTEGER NOT NULL,
    role            TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'compliance'))
);
CREATE INDEX members_by_role ON members (role) WHERE role <> 'member';

CREATE TABLE brands (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    categories  TEXT NOT NULL DEFAULT '[]',
    created_at  INTEGER NOT NULL
);

CREATE TABLE profile_values (
    member_id    TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    attribute    TEXT NOT NULL,
    value_sealed BLOB NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (member_id, attribute)
) WITHOUT ROWID;

CREATE TABLE feedback (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    member_num      INTEGER NOT NULL REFERENCES members(num) ON DELETE CASCADE,
    brand_id        TEXT NOT NULL REFERENCES brands(id),
    touchpoint      TEXT NOT NULL,
    rating          INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    nps             INTEGER CHECK (nps BETWEEN 0 AND 10),
    comment_sealed  BLOB,
    occurred_on     TEXT NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX feedback_by_member ON feedback (member_num);

-- Signing in, signing up, getting back in -------------------------------------------------------

CREATE TABLE web_sessions (
    id_hash     BLOB PRIMARY KEY,             -- SHA-256 of the cookie value
    member_id   TEXT REFERENCES members(id) ON DELETE CASCADE,
    data        TEXT NOT NULL DEFAULT '{}',
    device      TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX web_sessions_by_member ON web_sessions (member_id);
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);

CREATE TABLE login_throttle (
    subject      BLOB PRIMARY KEY,            -- keyed hash of an address or a client IP
    failures     INTEGER NOT NULL,
    last_failure INTEGER NOT NULL,
    locked_until INTEGER NOT NULL
) WITHOUT ROWID;

-- A sign-up waits here until its mailed link is followed (no member row or key exists before):
-- the address and password hash are sealed under a key derived from the link's token, which the
-- store never holds, only its SHA-256.
CREATE TABLE signup_requests (
    token_hash  BLOB PRIMARY KEY,             -- SHA-256 of the link's random token
    email_index BLOB NOT NULL,                -- blind index of the address
    sealed      BLOB NOT NULL,                -- address + argon2id hash, token-keyed
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX signup_requests_by_address ON signup_requests (email_index);
CREATE INDEX signup_requests_by_expiry ON signup_requests (expires_at);

CREATE TABLE password_resets (
    token_hash  BLOB PRIMARY KEY,             -- SHA-256 of the link's random token
    member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX password_resets_by_member ON password_resets (member_id);

CREATE TABLE totp_recovery_codes (
    member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    code_hash   BLOB NOT NULL,                -- HMAC-SHA256 under a key from the master key
    created_at  INTEGER NOT NULL,
    used_at     INTEGER,
    PRIMARY KEY (member_id, code_hash)
) WITHOUT ROWID;

-- Requests that send mail, counted per keyed-hash subject and window.
CREATE TABLE request_limits (
    subject      BLOB PRIMARY KEY,            -- keyed hash of an address or a client
    window_start INTEGER NOT NULL,
    requests     INTEGER NOT NULL
) WITHOUT ROWID;

-- Erasure ----------------------------------------------------------------------------------------

-- Pseudonymous record of erasures, for the ledger and for restore.
CREATE TABLE erasures (
    subject      TEXT PRIMARY KEY,            -- keyed pseudonym of the member id
    erased_at    INTEGER NOT NULL,
    rows_deleted INTEGER NOT NULL
) WITHOUT ROWID;

-- A confirmed erasure, recorded before any step of it (vault/erasure.py). No foreign key: the
-- row outlives the member's, and goes once the last step is done.
CREATE TABLE erasure_intents (
    member_id   TEXT PRIMARY KEY,
    erased_at   INTEGER NOT NULL
) WITHOUT ROWID;

-- Consent: every table goes with its member (ON DELETE CASCADE); the ledger keeps the evidence -----

CREATE TABLE member_terms (
    member_id         TEXT PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
    agreement         TEXT NOT NULL,
    purposes          TEXT NOT NULL DEFAULT '[]',
    max_days          INTEGER NOT NULL DEFAULT 0,
    aggregate_allowed INTEGER NOT NULL DEFAULT 0,
    gpc_opt_out       INTEGER NOT NULL DEFAULT 0,
    gpc_at            INTEGER,
    version           INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) WITHOUT ROWID;

-- What a member accepted for one brand beyond their standing terms: purposes added and a
-- longer longest grant.
CREATE TABLE member_brand_terms (
    member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    brand_id    TEXT NOT NULL REFERENCES brands(id),
    purposes    TEXT NOT NULL DEFAULT '[]',
    max_days    INTEGER NOT NULL DEFAULT 0,
    version     INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (member_id, brand_id)
) WITHOUT ROWID;

-- The signed receipt of each such change, kept as issued.
CREATE TABLE terms_receipts (
    id          TEXT PRIMARY KEY,
    member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    brand_id    TEXT NOT NULL REFERENCES brands(id),
    version     INTEGER NOT NULL,
    token       TEXT NOT NULL,                -- the signed receipt (compact JWS)
    created_at  INTEGER NOT NULL
);
CREATE INDEX terms_receipts_by_member ON terms_receipts (member_id, created_at);

CREATE TABLE agreements (
    id            TEXT PRIMARY KEY,
    member_id     TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    brand_id      TEXT NOT NULL REFERENCES brands(id),
    proffered     TEXT NOT NULL,
    countered     TEXT,
    status        TEXT NOT NULL
                  CHECK (status IN ('proffered', 'countered', 'agreed', 'rejected')),
    agreed        TEXT,
    record        TEXT,
    record_hash   TEXT,
    signature     TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX agreements_by_member ON agreements (member_id, brand_id);

-- ``status`` holds every state of the consent; ``withdrawn_at`` is when an act ended it,
-- whoever's; ``replaced_by`` the newer grant for the same brand and purpose; ``access_ended``
-- why the brand's access ended while the consent stands (consent.model.AccessEnd).
CREATE TABLE grants (
    id                TEXT PRIMARY KEY,
    member_id         TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    brand_id          TEXT NOT NULL REFERENCES brands(id),
    purpose           TEXT NOT NULL,
    fields            TEXT NOT NULL,
    mode              TEXT NOT NULL CHECK (mode IN ('individual', 'aggregate')),
    starts_at         INTEGER NOT NULL,
    ends_at           INTEGER NOT NULL,
    retention_days    INTEGER NOT NULL,
    onward_sharing    INTEGER NOT NULL,
    third_party       TEXT,
    jurisdiction      TEXT NOT NULL,
    collection_method TEXT NOT NULL,
    agreement         TEXT NOT NULL,
    terms_version     INTEGER NOT NULL,
    status            TEXT NOT NULL
                      CHECK (status IN ('active', 'withdrawn', 'released', 'replaced')),
    withdrawn_at      INTEGER,
    expiry_recorded   INTEGER NOT NULL DEFAULT 0,
    version           INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    replaced_by       TEXT,
    access_ended_at   INTEGER,
    access_ended      TEXT CHECK (access_ended IS NULL OR access_ended IN (
                          'code-replay', 'refresh-replay', 'client-disabled',
                          'authorization-expired', 'revoked-by-brand'))
);
CREATE INDEX grants_by_member_brand ON grants (member_id, brand_id);
CREATE INDEX grants_by_end ON grants (ends_at) WHERE status = 'active';
-- The expiries still to record, for the background pass (web/endings.py).
CREATE INDEX grants_expiry_due ON grants (ends_at)
    WHERE status = 'active' AND expiry_recorded = 0;

CREATE TABLE receipts (
    id          TEXT PRIMARY KEY,
    member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    grant_id    TEXT NOT NULL,
    brand_id    TEXT NOT NULL,
    event       TEXT NOT NULL,
    token       TEXT NOT NULL,                -- the signed receipt (compact JWS)
    created_at  INTEGER NOT NULL
);
CREATE INDEX receipts_by_member ON receipts (member_id, created_at);

-- The brand gateway: clients, pseudonyms, tokens --------------------------------------------------

-- Never a client secret, only its keyed hash (brand_gateway/clients.py says why HMAC-SHA256 and
-- not argon2id). Redirect URIs are stored exactly as registered and compared as exact strings
-- (RFC 9700 sec. 2.1, OAuth 2.1 sec. 2.3.1): no patterns, no normalisation.
-- ``scopes``: the brand-level work the client may do (client credentials);
-- ``accepted_agreements``: the IEEE 7012 terms the brand accepts as standing policy.
CREATE TABLE oauth_clients (
    client_id                  TEXT PRIMARY KEY,       -- random, URL-safe
    brand_id                   TEXT NOT NULL REFERENCES brands(id),
    client_secret_hash         BLOB NOT NULL,          -- HMAC-SHA256, never the secret
    redirect_uris              TEXT NOT NULL,          -- JSON list, matched exactly
    token_endpoint_auth_method TEXT NOT NULL DEFAULT 'client_secret_basic'
        CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'private_key_jwt')),
    grant_types                TEXT NOT NULL,          -- JSON list
    status                     TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at                 INTEGER NOT NULL,
    secret_rotated_at          INTEGER NOT NULL,       -- when the current secret was made
    scopes                     TEXT NOT NULL DEFAULT '[]',
    accepted_agreements        TEXT NOT NULL DEFAULT '["SD-BASE"]'
) WITHOUT ROWID;
CREATE INDEX oauth_clients_by_brand ON oauth_clients (brand_id);

-- Erasing a member removes every pseudonym a brand knew them by, so none of them resolves.
CREATE TABLE pairwise_subjects (
    brand_id     TEXT NOT NULL REFERENCES brands(id),
    pairwise_id  TEXT NOT NULL,
    member_id    TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    PRIMARY KEY (brand_id, pairwise_id),
    UNIQUE (brand_id, member_id)
) WITHOUT ROWID;
CREATE INDEX pairwise_subjects_by_member ON pairwise_subjects (member_id);

-- One member's authorization of one client: the grants it was approved with, the authorization
-- details as granted (RFC 9396), and the absolute end of its refresh chain. Codes, access and
-- refresh tokens all belong to a family; revoking it revokes them all.
CREATE TABLE oauth_token_families (
    id                    TEXT PRIMARY KEY,
    client_id             TEXT NOT NULL REFERENCES oauth_clients(client_id),
    member_id             TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    authorization_details TEXT NOT NULL,      -- JSON (RFC 9396), as the member granted
    created_at            INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL,   -- no token of the family outlives this
    revoked_at            INTEGER,
    revoked_reason        TEXT
) WITHOUT ROWID;
CREATE INDEX oauth_token_families_by_member ON oauth_token_families (member_id);
CREATE INDEX oauth_token_families_by_client ON oauth_token_families (client_id);
CREATE INDEX oauth_token_families_live_by_end ON oauth_token_families (expires_at)
    WHERE revoked_at IS NULL;

CREATE TABLE oauth_family_grants (
    grant_id   TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    family_id  TEXT NOT NULL REFERENCES oauth_token_families(id) ON DELETE CASCADE,
    PRIMARY KEY (grant_id, family_id)
) WITHOUT ROWID;
CREATE INDEX oauth_family_grants_by_family ON oauth_family_grants (family_id);

-- Tokens and codes are never stored, only their SHA-256 (a random 256-bit token needs no key or
-- slow hash, brand_gateway/tokens.py). Rows are never deleted while live: revocation sets
-- ``revoked_at`` (RFC 7009 sec. 2.2). A family cascades from its member, so an erased member's
-- codes and tokens go with them.
CREATE TABLE oauth_access_tokens (
    token_hash   BLOB PRIMARY KEY,            -- SHA-256 of the token, never the token
    client_id    TEXT NOT NULL REFERENCES oauth_clients(client_id),
    grant_type   TEXT NOT NULL,
    scope        TEXT NOT NULL,               -- space-separated (RFC 6749 sec. 3.3)
    issued_at    INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    family_id    TEXT REFERENCES oauth_token_families(id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX oauth_access_tokens_by_client ON oauth_access_tokens (client_id);
CREATE INDEX oauth_access_tokens_by_expiry ON oauth_access_tokens (expires_at);
CREATE INDEX oauth_access_tokens_by_family ON oauth_access_tokens (family_id);

CREATE TABLE oauth_authorization_codes (
    code_hash             BLOB PRIMARY KEY,   -- SHA-256 of the code, never the code
    family_id             TEXT NOT NULL REFERENCES oauth_token_families(id) ON DELETE CASCADE,
    client_id             TEXT NOT NULL REFERENCES oauth_clients(client_id),
    redirect_uri          TEXT NOT NULL,
    code_challenge        TEXT NOT NULL,
    code_challenge_method TEXT NOT NULL CHECK (code_challenge_method = 'S256'),
    issued_at             INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL,
    used_at               INTEGER
) WITHOUT ROWID;
CREATE INDEX oauth_authorization_codes_by_family ON oauth_authorization_codes (family_id);

CREATE TABLE oauth_refresh_tokens (
    token_hash  BLOB PRIMARY KEY,             -- SHA-256 of the token, never the token
    family_id   TEXT NOT NULL REFERENCES oauth_token_families(id) ON DELETE CASCADE,
    issued_at   INTEGER NOT NULL,
    used_at     INTEGER                       -- rotated: a second use is a replay
) WITHOUT ROWID;
CREATE INDEX oauth_refresh_tokens_by_family ON oauth_refresh_tokens (family_id);

-- The brand gateway: webhooks (GDPR Art. 19) ------------------------------------------------------

-- Endpoints are never deleted, only disabled: outbox rows keep pointing at theirs.
CREATE TABLE webhook_endpoints (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id    TEXT NOT NULL REFERENCES oauth_clients(client_id),
    url          TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    disabled_at  INTEGER
);
CREATE INDEX webhook_endpoints_by_client ON webhook_endpoints (client_id);
CREATE UNIQUE INDEX webhook_endpoints_live_url ON webhook_endpoints (client_id, url)
    WHERE disabled_at IS NULL;

-- Written in the data-store transaction of the change it announces (a withdrawn grant, an
-- erasure): both commit or neither does. Never references members and holds nothing that
-- identifies one to anybody but the brand (its pairwise pseudonym, grant ids, a purpose code,
-- times), so an erasure deletes none of it: it is the evidence that the brand was told.
CREATE TABLE webhook_outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoints(id),
    client_id        TEXT NOT NULL REFERENCES oauth_clients(client_id),
    event_type       TEXT NOT NULL
        CHECK (event_type IN ('consent.withdrawn', 'consent.expired', 'member.erased',
                              'authorization.ended')),
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
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_outbox_by_client ON webhook_outbox (client_id, created_at);

CREATE TABLE webhook_attempts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id     INTEGER NOT NULL REFERENCES webhook_outbox(id),
    attempted_at  INTEGER NOT NULL,
    http_status   INTEGER,
    error         TEXT,                       -- an exception class name, never a message
                                              -- (nor a response body)
    duration_ms   INTEGER NOT NULL,
    CHECK ((http_status IS NULL) <> (error IS NULL))
);
CREATE INDEX webhook_attempts_by_outbox ON webhook_attempts (outbox_id);
