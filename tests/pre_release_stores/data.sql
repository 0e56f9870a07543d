-- The data store as 'vrmvault init' made it at b89e8db, the last commit before the migration
-- histories were squashed: every schema object in the order sqlite_master held it, then the
-- migrations it recorded. Dumped from a fresh home; test-only, never edited (see __init__.py).

CREATE TABLE schema_migrations ( number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);

CREATE TABLE brands (
            id          TEXT PRIMARY KEY,
            name        TEXT NOT NULL UNIQUE,
            categories  TEXT NOT NULL DEFAULT '[]',
            created_at  INTEGER NOT NULL
        );

CREATE TABLE profile_values (
            member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            attribute   TEXT NOT NULL,
            value_sealed BLOB NOT NULL,
            updated_at  INTEGER NOT NULL,
            PRIMARY KEY (member_id, attribute)
        ) WITHOUT ROWID;

CREATE TABLE web_sessions (
            id_hash     BLOB PRIMARY KEY,          
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
            subject     BLOB PRIMARY KEY,          
            failures    INTEGER NOT NULL,
            last_failure INTEGER NOT NULL,
            locked_until INTEGER NOT NULL
        ) WITHOUT ROWID;

CREATE TABLE erasures (
            subject     TEXT PRIMARY KEY,          
            erased_at   INTEGER NOT NULL,
            rows_deleted INTEGER NOT NULL
        ) WITHOUT ROWID;

CREATE TABLE "members" (
            num             INTEGER PRIMARY KEY AUTOINCREMENT,
            id              TEXT NOT NULL UNIQUE,
            email_index     BLOB NOT NULL UNIQUE,
            email_sealed    BLOB NOT NULL,
            password_hash   TEXT NOT NULL,
            totp_sealed     BLOB,
            totp_last_step  INTEGER,
            created_at      INTEGER NOT NULL
        , role TEXT NOT NULL DEFAULT 'member'
            CHECK (role IN ('member', 'compliance')));

CREATE TABLE "feedback" (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            member_num      INTEGER NOT NULL REFERENCES "members"(num) ON DELETE CASCADE,
            brand_id        TEXT NOT NULL REFERENCES brands(id),
            touchpoint      TEXT NOT NULL,
            rating          INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
            nps             INTEGER CHECK (nps BETWEEN 0 AND 10),
            comment_sealed  BLOB,
            occurred_on     TEXT NOT NULL,
            updated_at      INTEGER NOT NULL
        );

CREATE INDEX feedback_by_member ON feedback (member_num);

CREATE INDEX members_by_role ON members (role) WHERE role <> 'member';

CREATE TABLE erasure_intents (
            member_id   TEXT PRIMARY KEY,
            erased_at   INTEGER NOT NULL
        ) WITHOUT ROWID;

CREATE TABLE signup_requests (
            token_hash  BLOB PRIMARY KEY,          
            email_index BLOB NOT NULL,             
            sealed      BLOB NOT NULL,             
            created_at  INTEGER NOT NULL,
            expires_at  INTEGER NOT NULL
        ) WITHOUT ROWID;

CREATE INDEX signup_requests_by_address ON signup_requests (email_index);

CREATE INDEX signup_requests_by_expiry ON signup_requests (expires_at);

CREATE TABLE password_resets (
            token_hash  BLOB PRIMARY KEY,          
            member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            created_at  INTEGER NOT NULL,
            expires_at  INTEGER NOT NULL
        ) WITHOUT ROWID;

CREATE INDEX password_resets_by_member ON password_resets (member_id);

CREATE TABLE totp_recovery_codes (
            member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            code_hash   BLOB NOT NULL,             
            created_at  INTEGER NOT NULL,
            used_at     INTEGER,
            PRIMARY KEY (member_id, code_hash)
        ) WITHOUT ROWID;

CREATE TABLE request_limits (
            subject     BLOB PRIMARY KEY,          
            window_start INTEGER NOT NULL,
            requests    INTEGER NOT NULL
        ) WITHOUT ROWID;

CREATE TABLE consent_migrations ( number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);

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

CREATE TABLE receipts (
            id          TEXT PRIMARY KEY,
            member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            grant_id    TEXT NOT NULL,
            brand_id    TEXT NOT NULL,
            event       TEXT NOT NULL,
            token       TEXT NOT NULL,          
            created_at  INTEGER NOT NULL
        );

CREATE INDEX receipts_by_member ON receipts (member_id, created_at);

CREATE TABLE "grants" (
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

CREATE INDEX grants_expiry_due ON grants (ends_at)
            WHERE status = 'active' AND expiry_recorded = 0;

CREATE TABLE member_brand_terms (
            member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            brand_id    TEXT NOT NULL REFERENCES brands(id),
            purposes    TEXT NOT NULL DEFAULT '[]',
            max_days    INTEGER NOT NULL DEFAULT 0,
            version     INTEGER NOT NULL,
            updated_at  INTEGER NOT NULL,
            PRIMARY KEY (member_id, brand_id)
        ) WITHOUT ROWID;

CREATE TABLE terms_receipts (
            id          TEXT PRIMARY KEY,
            member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            brand_id    TEXT NOT NULL REFERENCES brands(id),
            version     INTEGER NOT NULL,
            token       TEXT NOT NULL,          
            created_at  INTEGER NOT NULL
        );

CREATE INDEX terms_receipts_by_member ON terms_receipts (member_id, created_at);

CREATE TABLE gateway_migrations ( number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);

CREATE TABLE oauth_clients (
            client_id                  TEXT PRIMARY KEY,       
            brand_id                   TEXT NOT NULL REFERENCES brands(id),
            client_secret_hash         BLOB NOT NULL,          
            redirect_uris              TEXT NOT NULL,          
            token_endpoint_auth_method TEXT NOT NULL DEFAULT 'client_secret_basic'
                CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'private_key_jwt')),
            grant_types                TEXT NOT NULL,          
            status                     TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
            created_at                 INTEGER NOT NULL,
            secret_rotated_at          INTEGER NOT NULL        
        , scopes TEXT NOT NULL DEFAULT '[]', accepted_agreements TEXT NOT NULL
            DEFAULT '["SD-BASE"]') WITHOUT ROWID;

CREATE INDEX oauth_clients_by_brand ON oauth_clients (brand_id);

CREATE TABLE pairwise_subjects (
            brand_id     TEXT NOT NULL REFERENCES brands(id),
            pairwise_id  TEXT NOT NULL,
            member_id    TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            PRIMARY KEY (brand_id, pairwise_id),
            UNIQUE (brand_id, member_id)
        ) WITHOUT ROWID;

CREATE INDEX pairwise_subjects_by_member ON pairwise_subjects (member_id);

CREATE TABLE gateway_token_migrations ( number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);

CREATE TABLE oauth_access_tokens (
            token_hash   BLOB PRIMARY KEY,       
            client_id    TEXT NOT NULL REFERENCES oauth_clients(client_id),
            grant_type   TEXT NOT NULL,
            scope        TEXT NOT NULL,          
            issued_at    INTEGER NOT NULL,
            expires_at   INTEGER NOT NULL,
            revoked_at   INTEGER
        , family_id TEXT
            REFERENCES oauth_token_families(id) ON DELETE CASCADE) WITHOUT ROWID;

CREATE INDEX oauth_access_tokens_by_client ON oauth_access_tokens (client_id);

CREATE INDEX oauth_access_tokens_by_expiry ON oauth_access_tokens (expires_at);

CREATE TABLE oauth_token_families (
            id                    TEXT PRIMARY KEY,
            client_id             TEXT NOT NULL REFERENCES oauth_clients(client_id),
            member_id             TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            authorization_details TEXT NOT NULL,   
            created_at            INTEGER NOT NULL,
            expires_at            INTEGER NOT NULL,  
            revoked_at            INTEGER,
            revoked_reason        TEXT
        ) WITHOUT ROWID;

CREATE INDEX oauth_token_families_by_member ON oauth_token_families (member_id);

CREATE INDEX oauth_token_families_by_client ON oauth_token_families (client_id);

CREATE TABLE oauth_family_grants (
            grant_id   TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
            family_id  TEXT NOT NULL REFERENCES oauth_token_families(id) ON DELETE CASCADE,
            PRIMARY KEY (grant_id, family_id)
        ) WITHOUT ROWID;

CREATE INDEX oauth_family_grants_by_family ON oauth_family_grants (family_id);

CREATE TABLE oauth_authorization_codes (
            code_hash             BLOB PRIMARY KEY,  
            family_id             TEXT NOT NULL REFERENCES oauth_token_families(id)
                                      ON DELETE CASCADE,
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
            token_hash  BLOB PRIMARY KEY,            
            family_id   TEXT NOT NULL REFERENCES oauth_token_families(id) ON DELETE CASCADE,
            issued_at   INTEGER NOT NULL,
            used_at     INTEGER                      
        ) WITHOUT ROWID;

CREATE INDEX oauth_refresh_tokens_by_family ON oauth_refresh_tokens (family_id);

CREATE INDEX oauth_access_tokens_by_family ON oauth_access_tokens (family_id);

CREATE INDEX oauth_token_families_live_by_end ON oauth_token_families (expires_at)
            WHERE revoked_at IS NULL;

CREATE TABLE gateway_access_migrations ( number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);

CREATE TABLE gateway_webhook_migrations ( number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);

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

CREATE TABLE webhook_attempts (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            outbox_id     INTEGER NOT NULL REFERENCES webhook_outbox(id),
            attempted_at  INTEGER NOT NULL,
            http_status   INTEGER,
            error         TEXT,                     
            duration_ms   INTEGER NOT NULL,
            CHECK ((http_status IS NULL) <> (error IS NULL))
        );

CREATE INDEX webhook_attempts_by_outbox ON webhook_attempts (outbox_id);

CREATE TABLE "webhook_outbox" (
            id               INTEGER PRIMARY KEY AUTOINCREMENT,
            endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoints(id),
            client_id        TEXT NOT NULL REFERENCES oauth_clients(client_id),
            event_type       TEXT NOT NULL
                CHECK (event_type IN ('consent.withdrawn', 'consent.expired', 'member.erased',
                                      'authorization.ended')),
            event_id         TEXT NOT NULL,          
            payload          TEXT NOT NULL,          
            status           TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'delivered', 'dead')),
            attempts         INTEGER NOT NULL DEFAULT 0,
            next_attempt_at  INTEGER NOT NULL,       
            created_at       INTEGER NOT NULL,
            delivered_at     INTEGER,
            UNIQUE (endpoint_id, event_id)
        );

CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at)
            WHERE status = 'pending';

CREATE INDEX webhook_outbox_by_client ON webhook_outbox (client_id, created_at);

INSERT INTO schema_migrations (number, name, applied_at) VALUES (1, 'members_profile_feedback', 1796000000);
INSERT INTO schema_migrations (number, name, applied_at) VALUES (2, 'sessions_throttle_erasures', 1796000000);
INSERT INTO schema_migrations (number, name, applied_at) VALUES (3, 'integer_member_keys_for_feedback', 1796000000);
INSERT INTO schema_migrations (number, name, applied_at) VALUES (4, 'member_roles', 1796000000);
INSERT INTO schema_migrations (number, name, applied_at) VALUES (5, 'erasure_intents', 1796000000);
INSERT INTO schema_migrations (number, name, applied_at) VALUES (6, 'account_recovery', 1796000000);

INSERT INTO consent_migrations (number, name, applied_at) VALUES (1, 'terms_agreements_grants_receipts', 1796000000);
INSERT INTO consent_migrations (number, name, applied_at) VALUES (2, 'grant_endings', 1796000000);
INSERT INTO consent_migrations (number, name, applied_at) VALUES (3, 'brand_terms_and_their_receipts', 1796000000);

INSERT INTO gateway_migrations (number, name, applied_at) VALUES (1, 'oauth_clients_pairwise_subjects', 1796000000);
INSERT INTO gateway_migrations (number, name, applied_at) VALUES (2, 'client_scopes_and_accepted_agreements', 1796000000);
INSERT INTO gateway_migrations (number, name, applied_at) VALUES (3, 'retire_scopes_without_endpoints', 1796000000);

INSERT INTO gateway_token_migrations (number, name, applied_at) VALUES (1, 'oauth_access_tokens', 1796000000);
INSERT INTO gateway_token_migrations (number, name, applied_at) VALUES (2, 'authorization_code_refresh_families', 1796000000);
INSERT INTO gateway_token_migrations (number, name, applied_at) VALUES (3, 'live_families_by_end', 1796000000);

INSERT INTO gateway_access_migrations (number, name, applied_at) VALUES (1, 'api_access_log_rate_limits', 1796000000);
INSERT INTO gateway_access_migrations (number, name, applied_at) VALUES (2, 'drop_access_log_rate_limits', 1796000000);

INSERT INTO gateway_webhook_migrations (number, name, applied_at) VALUES (1, 'webhook_endpoints_outbox_attempts', 1796000000);
INSERT INTO gateway_webhook_migrations (number, name, applied_at) VALUES (2, 'outbox_authorization_ended', 1796000000);
