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
        "grant_endings",
        # Issue 12: every way a grant or the brand's access under it ends is recorded.
        # Rebuilds ``grants`` (SQLite cannot change a CHECK in place) so that ``status`` holds
        # every state of the consent: 'released' (the brand gave it up) and 'replaced' (a newer
        # grant for the same brand and purpose took its place, ``replaced_by``) besides
        # 'active' and 'withdrawn'; ``withdrawn_at`` is when an act ended it, whoever's.
        # ``access_ended`` records why the brand's access ended while the consent stands
        # (consent.model.AccessEnd). ``oauth_family_grants`` references grants by name and
        # keeps doing so.
        """
        CREATE TABLE grants_new (
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
        INSERT INTO grants_new (id, member_id, brand_id, purpose, fields, mode, starts_at,
                                ends_at, retention_days, onward_sharing, third_party,
                                jurisdiction, collection_method, agreement, terms_version,
                                status, withdrawn_at, expiry_recorded, version, created_at,
                                updated_at)
            SELECT id, member_id, brand_id, purpose, fields, mode, starts_at, ends_at,
                   retention_days, onward_sharing, third_party, jurisdiction,
                   collection_method, agreement, terms_version, status, withdrawn_at,
                   expiry_recorded, version, created_at, updated_at
            FROM grants;
        DROP TABLE grants;
        ALTER TABLE grants_new RENAME TO grants;
        CREATE INDEX grants_by_member_brand ON grants (member_id, brand_id);
        CREATE INDEX grants_by_end ON grants (ends_at) WHERE status = 'active';
        -- The expiries still to record: what the background pass looks for every few seconds
        -- (web/endings.py), without reading the grants whose expiry is recorded already.
        CREATE INDEX grants_expiry_due ON grants (ends_at)
            WHERE status = 'active' AND expiry_recorded = 0;
        """,
        rebuilds_tables=True,
    ),
    Migration(
        3,
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
    Migration(
        4,
        "agreement_withdrawals",
        # A member may take back an offer the brand has not answered yet (IEEE 7012: the first
        # party's offer stands until answered or withdrawn): ``status`` gains 'withdrawn'.
        # Rebuilds ``agreements`` (SQLite cannot change a CHECK in place); nothing references it.
        """
        CREATE TABLE agreements_new (
            id            TEXT PRIMARY KEY,
            member_id     TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
            brand_id      TEXT NOT NULL REFERENCES brands(id),
            proffered     TEXT NOT NULL,
            countered     TEXT,
            status        TEXT NOT NULL CHECK (status IN ('proffered', 'countered', 'agreed',
                                                          'rejected', 'withdrawn')),
            agreed        TEXT,
            record        TEXT,
            record_hash   TEXT,
            signature     TEXT,
            created_at    INTEGER NOT NULL,
            updated_at    INTEGER NOT NULL
        );
        INSERT INTO agreements_new (id, member_id, brand_id, proffered, countered, status,
                                    agreed, record, record_hash, signature, created_at,
                                    updated_at)
            SELECT id, member_id, brand_id, proffered, countered, status, agreed, record,
                   record_hash, signature, created_at, updated_at
            FROM agreements ORDER BY rowid;
        DROP TABLE agreements;
        ALTER TABLE agreements_new RENAME TO agreements;
        CREATE INDEX agreements_by_member ON agreements (member_id, brand_id);
        """,
        rebuilds_tables=True,
    ),
)


_LAYER = LayerMigrations("consent", TABLE, CONSENT_MIGRATIONS)
initialise = _LAYER.initialise
require_current = _LAYER.require_current
