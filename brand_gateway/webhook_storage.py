"""The tables of brand webhooks (GDPR Art. 19 notifications), with numbered migrations of their own.

Recorded in ``gateway_webhook_migrations`` and applied to the data store after the gateway's own
migrations (endpoints and outbox rows reference ``oauth_clients``).

Invariants:
- The outbox is durable: a row is written in the same data-store transaction as the change it
  announces (a withdrawn grant, an erasure), so both commit or neither does.
- Outbox rows never reference ``members`` and hold nothing that identifies one to anybody but
  the brand: the brand's pairwise pseudonym, grant ids, a purpose code and times. An erasure
  therefore deletes none of them (there is nothing to cascade from), and they are kept as the
  evidence that the brand was told.
- Endpoints are never deleted, only disabled (``disabled_at``): outbox rows keep pointing at the
  endpoint they were meant for.
- An attempt records an HTTP status or an error class name, never a response body or an error
  message.
"""

from __future__ import annotations

from vault.migrations import LayerMigrations, Migration

TABLE = "gateway_webhook_migrations"

WEBHOOK_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "webhook_endpoints_outbox_attempts",
        """
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
        CREATE TABLE webhook_outbox (
            id               INTEGER PRIMARY KEY AUTOINCREMENT,
            endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoints(id),
            client_id        TEXT NOT NULL REFERENCES oauth_clients(client_id),
            event_type       TEXT NOT NULL
                CHECK (event_type IN ('consent.withdrawn', 'consent.expired', 'member.erased')),
            event_id         TEXT NOT NULL,          -- UUID; the webhook-id header
            payload          TEXT NOT NULL,          -- the exact JSON body that is signed
            status           TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'delivered', 'dead')),
            attempts         INTEGER NOT NULL DEFAULT 0,
            next_attempt_at  INTEGER NOT NULL,       -- also the lease of a claimed row
            created_at       INTEGER NOT NULL,
            delivered_at     INTEGER,
            UNIQUE (endpoint_id, event_id)
        );
        CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at)
            WHERE status = 'pending';
        CREATE INDEX webhook_outbox_by_client ON webhook_outbox (client_id, created_at);
        CREATE TABLE webhook_attempts (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            outbox_id     INTEGER NOT NULL REFERENCES webhook_outbox(id),
            attempted_at  INTEGER NOT NULL,
            http_status   INTEGER,
            error         TEXT,                     -- an exception class name, never a message
            duration_ms   INTEGER NOT NULL,
            CHECK ((http_status IS NULL) <> (error IS NULL))
        );
        CREATE INDEX webhook_attempts_by_outbox ON webhook_attempts (outbox_id);
        """,
    ),
    Migration(
        2,
        "outbox_authorization_ended",
        # Issue 12: brands are told when their access under a grant ended
        # (``authorization.ended``). Rebuilds ``webhook_outbox`` (SQLite cannot change a CHECK
        # in place), keeping every row and id; ``webhook_attempts`` references it by name.
        """
        CREATE TABLE webhook_outbox_new (
            id               INTEGER PRIMARY KEY AUTOINCREMENT,
            endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoints(id),
            client_id        TEXT NOT NULL REFERENCES oauth_clients(client_id),
            event_type       TEXT NOT NULL
                CHECK (event_type IN ('consent.withdrawn', 'consent.expired', 'member.erased',
                                      'authorization.ended')),
            event_id         TEXT NOT NULL,          -- UUID; the webhook-id header
            payload          TEXT NOT NULL,          -- the exact JSON body that is signed
            status           TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'delivered', 'dead')),
            attempts         INTEGER NOT NULL DEFAULT 0,
            next_attempt_at  INTEGER NOT NULL,       -- also the lease of a claimed row
            created_at       INTEGER NOT NULL,
            delivered_at     INTEGER,
            UNIQUE (endpoint_id, event_id)
        );
        INSERT INTO webhook_outbox_new (id, endpoint_id, client_id, event_type, event_id,
                                        payload, status, attempts, next_attempt_at,
                                        created_at, delivered_at)
            SELECT id, endpoint_id, client_id, event_type, event_id, payload, status, attempts,
                   next_attempt_at, created_at, delivered_at
            FROM webhook_outbox;
        DROP TABLE webhook_outbox;
        ALTER TABLE webhook_outbox_new RENAME TO webhook_outbox;
        CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at)
            WHERE status = 'pending';
        CREATE INDEX webhook_outbox_by_client ON webhook_outbox (client_id, created_at);
        """,
        rebuilds_tables=True,
    ),
)


_LAYER = LayerMigrations("brand gateway webhook", TABLE, WEBHOOK_MIGRATIONS)
initialise = _LAYER.initialise
require_current = _LAYER.require_current
