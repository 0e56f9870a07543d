"""The consent tables, kept in the data store beside the members they belong to.

Numbered migrations of their own, recorded in ``consent_migrations``: the vault layer knows
nothing of consent, so ``vrmvault init`` applies these after the vault's. Every table references
``members(id)`` with ``ON DELETE CASCADE``: erasing a member removes their terms (standing and
per brand), agreements, grants and receipts with them (the ledger keeps only pseudonymous evidence).
"""

from __future__ import annotations

from vault.migrations import LayerMigrations, Migration

TABLE = "consent_migrations"

CONSENT_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "terms_agreements_grants_receipts",
        """
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
            status            TEXT NOT NULL CHECK (status IN ('active', 'withdrawn')),
            withdrawn_at      INTEGER,
            expiry_recorded   INTEGER NOT NULL DEFAULT 0,
            version           INTEGER NOT NULL,
            created_at        INTEGER NOT NULL,
            updated_at        INTEGER NOT NULL
        );
        CREATE INDEX grants_by_member_brand ON grants (member_id, brand_id);
        CREATE INDEX grants_by_end ON grants (ends_at) WHERE status = 'active';
        CREATE TABLE receipts (
            id          TEXT PRIMARY KEY,
            member_id   TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            grant_id    TEXT NOT NULL,
            brand_id    TEXT NOT NULL,
            event       TEXT NOT NULL,
            token       TEXT NOT NULL,          -- the signed receipt (compact JWS)
            created_at  INTEGER NOT NULL
        );
        CREATE INDEX receipts_by_member ON receipts (member_id, created_at);
        """,
    ),
    Migration(
        2,
        "brand_terms_and_their_receipts",
        """
        -- What a member accepted for one brand beyond their standing terms (issue 12: a first
        -- contact from a brand's request): purposes added and a longer longest grant.
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
            token       TEXT NOT NULL,          -- the signed receipt (compact JWS)
            created_at  INTEGER NOT NULL
        );
        CREATE INDEX terms_receipts_by_member ON terms_receipts (member_id, created_at);
        """,
    ),
)


_LAYER = LayerMigrations("consent", TABLE, CONSENT_MIGRATIONS)
initialise = _LAYER.initialise
require_current = _LAYER.require_current
