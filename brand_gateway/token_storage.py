"""The table of issued access tokens, with numbered migrations of its own.

Recorded in ``gateway_token_migrations`` and applied to the data store after the gateway's own
migrations (``oauth_access_tokens`` references ``oauth_clients``).

Invariants:
- A token is never stored, only its SHA-256 (a random 256-bit token needs no key or slow hash
  to be out of reach of guessing; see :mod:`brand_gateway.tokens`).
- Rows are never deleted while live: revocation sets ``revoked_at`` (RFC 7009 sec. 2.2).
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
)


_LAYER = LayerMigrations("brand gateway token", TABLE, TOKEN_MIGRATIONS)
initialise = _LAYER.initialise
require_current = _LAYER.require_current
