"""The table of issued access tokens, with numbered migrations of its own.

Recorded in ``gateway_token_migrations`` and applied to the data store after the gateway's own
migrations (``oauth_access_tokens`` references ``oauth_clients``).

Invariants:
- A token is never stored, only its SHA-256 (a random 256-bit token needs no key or slow hash
  to be out of reach of guessing; see :mod:`brand_gateway.tokens`).
- Rows are never deleted while live: revocation sets ``revoked_at`` (RFC 7009 sec. 2.2).
- Member-delegated tokens belong to a family (one authorization of one client by one member);
  a family cascades on ``members(id)``, so an erased member's codes and tokens are gone with them.
"""

from __future__ import annotations

from vault.migrations import LayerMigrations, Migration

TABLE = "gateway_token_migrations"

TOKEN_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "oauth_access_tokens",
        """
        CREATE TABLE oauth_access_tokens (
            token_hash   BLOB PRIMARY KEY,       -- SHA-256 of the token, never the token
            client_id    TEXT NOT NULL REFERENCES oauth_clients(client_id),
            grant_type   TEXT NOT NULL,
            scope        TEXT NOT NULL,          -- space-separated (RFC 6749 sec. 3.3)
            issued_at    INTEGER NOT NULL,
            expires_at   INTEGER NOT NULL,
            revoked_at   INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX oauth_access_tokens_by_client ON oauth_access_tokens (client_id);
        CREATE INDEX oauth_access_tokens_by_expiry ON oauth_access_tokens (expires_at);
        """,
    ),
    Migration(
        2,
        "authorization_code_refresh_families",
        """
        -- One member's authorization of one client: the grants it was approved with, the
        -- authorization details as granted, and the absolute end of its refresh chain. Codes,
        -- access and refresh tokens all belong to a family; revoking it revokes them all.
        CREATE TABLE oauth_token_families (
            id                    TEXT PRIMARY KEY,
            client_id             TEXT NOT NULL REFERENCES oauth_clients(client_id),
            member_id             TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            authorization_details TEXT NOT NULL,   -- JSON (RFC 9396), as the member granted
            created_at            INTEGER NOT NULL,
            expires_at            INTEGER NOT NULL,  -- no token of the family outlives this
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
            code_hash             BLOB PRIMARY KEY,  -- SHA-256 of the code, never the code
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
            token_hash  BLOB PRIMARY KEY,            -- SHA-256 of the token, never the token
            family_id   TEXT NOT NULL REFERENCES oauth_token_families(id) ON DELETE CASCADE,
            issued_at   INTEGER NOT NULL,
            used_at     INTEGER                      -- rotated: a second use is a replay
        ) WITHOUT ROWID;
        CREATE INDEX oauth_refresh_tokens_by_family ON oauth_refresh_tokens (family_id);
        ALTER TABLE oauth_access_tokens ADD COLUMN family_id TEXT
            REFERENCES oauth_token_families(id) ON DELETE CASCADE;
        CREATE INDEX oauth_access_tokens_by_family ON oauth_access_tokens (family_id);
        """,
    ),
    Migration(
        3,
        "live_families_by_end",
        # Issue 12: the background pass that records authorizations past their absolute end
        # (AuthorizationStore.expire_families) finds them without reading every family.
        """
        CREATE INDEX oauth_token_families_live_by_end ON oauth_token_families (expires_at)
            WHERE revoked_at IS NULL;
        """,
    ),
)


_LAYER = LayerMigrations("brand gateway token", TABLE, TOKEN_MIGRATIONS)
initialise = _LAYER.initialise
require_current = _LAYER.require_current
