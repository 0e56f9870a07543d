"""The brand gateway's tables, kept in the data store beside the brands and members they name.

Numbered migrations of their own, recorded in ``gateway_migrations`` (the vault layer knows
nothing of OAuth), applied by ``vrmvault init`` after the vault's and the consent layer's.

Invariants:
- ``oauth_clients`` never holds a client secret, only its keyed hash (see
  :class:`brand_gateway.clients.ClientSecretHasher` for why HMAC-SHA256 and not argon2id).
- Redirect URIs are stored exactly as registered and compared as exact strings (RFC 9700
  sec. 2.1, OAuth 2.1 sec. 2.3.1): no patterns, no normalisation.
- ``pairwise_subjects`` rows reference ``members(id)`` with ``ON DELETE CASCADE``: erasing a
  member removes every pseudonym a brand knew them by, so none of them resolves any more.
"""

from __future__ import annotations

from vault.migrations import LayerMigrations, Migration

TABLE = "gateway_migrations"

GATEWAY_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "oauth_clients_pairwise_subjects",
        """
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
            secret_rotated_at          INTEGER NOT NULL        -- when the current secret was made
        ) WITHOUT ROWID;
        CREATE INDEX oauth_clients_by_brand ON oauth_clients (brand_id);
        CREATE TABLE pairwise_subjects (
            brand_id     TEXT NOT NULL REFERENCES brands(id),
            pairwise_id  TEXT NOT NULL,
            member_id    TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            PRIMARY KEY (brand_id, pairwise_id),
            UNIQUE (brand_id, member_id)
        ) WITHOUT ROWID;
        CREATE INDEX pairwise_subjects_by_member ON pairwise_subjects (member_id);
        """,
    ),
    Migration(
        2,
        "client_scopes_and_accepted_agreements",
        """
        -- What brand-level work a client may do (client credentials scopes), and which IEEE
        -- 7012 terms the brand accepts as standing policy: a member proffering one of them
        -- reaches agreement with the brand when approving its request (MyTerms).
        ALTER TABLE oauth_clients ADD COLUMN scopes TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE oauth_clients ADD COLUMN accepted_agreements TEXT NOT NULL
            DEFAULT '["SD-BASE"]';
        """,
    ),
    Migration(
        3,
        "retire_scopes_without_endpoints",
        # intents:read, offers:write and insights:read were registered (and issued) though no
        # endpoint served them (issue 12): clients keep only scopes the gateway serves.
        """
        UPDATE oauth_clients SET scopes = (
            SELECT json_group_array(value) FROM json_each(oauth_clients.scopes)
            WHERE value NOT IN ('intents:read', 'offers:write', 'insights:read'))
        WHERE EXISTS (SELECT 1 FROM json_each(oauth_clients.scopes)
                      WHERE value IN ('intents:read', 'offers:write', 'insights:read'));
        """,
    ),
)


_LAYER = LayerMigrations("brand gateway", TABLE, GATEWAY_MIGRATIONS)
initialise = _LAYER.initialise
require_current = _LAYER.require_current
