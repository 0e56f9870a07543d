"""The webhook repositories in PostgreSQL, over the data store's
:class:`vault.postgresql.database.Database`: :class:`PostgresqlWebhookEndpoints` and
:class:`PostgresqlWebhookOutbox` (what both engines share is in :mod:`.sql`).

The endpoints, the outbox and its attempts are shared tables, like the clients they name: no
member owns them, and the outbox is one queue that deliverers take from in one order across
every brand (the reasons are with the table, ``vault/schema/postgresql/data/0001_baseline.sql``).
Ids come from identity sequences, never reused.

Where SQLCipher's claim is the store's write lock around reading the next due row and moving
its lease, a claim here is one ``UPDATE`` of the row its sub-select locks ``FOR UPDATE SKIP
LOCKED``: deliverers on several hosts at once each take a different row, none waits for
another's, and a row another one has just leased (its due time moved past ``now``) no longer
qualifies when it is re-checked under the lock. Inside a write transaction the reads a service
decides a write on lock what they read (``FOR NO KEY UPDATE``), an attempt's outbox row before
it is recorded included. Text orders by its bytes, as on SQLite.
"""

from __future__ import annotations

from consent.postgresql import locking
from vault.errors import ConstraintViolationError
from vault.postgresql.database import Database

from .repositories import DueEvent
from .sql import SqlWebhookEndpoints, SqlWebhookOutbox


class PostgresqlWebhookEndpoints(SqlWebhookEndpoints):
    _db: Database
    _BYTEWISE = ' COLLATE "C"'

    def _locking(self, of: str = "") -> str:
        return locking(self._db, of)

    def insert(self, client_id: str, public_id: str, url: str, created_at: int) -> int | None:
        # A live endpoint of the client at that URL already, or no such client: nothing
        # written, without breaking a constraint (which would end a caller's transaction). A
        # public id taken already (96 random bits: never, in practice) breaks one.
        try:
            row = self._db.one(
                "INSERT INTO webhook_endpoints (client_id, public_id, url, created_at)"
                " SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT)"
                " WHERE EXISTS (SELECT 1 FROM oauth_clients WHERE client_id = ?)"
                " ON CONFLICT (client_id, url) WHERE disabled_at IS NULL DO NOTHING"
                " RETURNING id", (client_id, public_id, url, created_at, client_id))
        except ConstraintViolationError:
            return None
        return None if row is None else int(row[0])


class PostgresqlWebhookOutbox(SqlWebhookOutbox):
    _db: Database

    def _locking(self, of: str = "") -> str:
        return locking(self._db, of)

    # -- what compliance sees -----------------------------------------------------------------
    def tallies(self) -> list[tuple[str, str, str, int]]:
        return [(row["client_id"], row["brand_name"], row["status"], int(row["events"]))
                for row in self._db.all(
                    "SELECT o.client_id, b.name AS brand_name, o.status, count(*) AS events"
                    " FROM webhook_outbox AS o"
                    " JOIN oauth_clients AS c ON c.client_id = o.client_id"
                    " JOIN brands AS b ON b.id = c.brand_id"
                    " GROUP BY o.client_id, b.name, o.status"
                    ' ORDER BY b.name COLLATE "C", o.client_id COLLATE "C",'
                    ' o.status COLLATE "C"')]

    # -- delivering ---------------------------------------------------------------------------
    def claim_due(self, *, now: int, lease: int) -> DueEvent | None:
        row = self._db.one(
            "UPDATE webhook_outbox AS o SET next_attempt_at = ?"
            " FROM webhook_endpoints AS e"
            " WHERE e.id = o.endpoint_id AND o.id = ("
            "  SELECT d.id FROM webhook_outbox AS d"
            "  JOIN webhook_endpoints AS de ON de.id = d.endpoint_id"
            "  WHERE d.status = 'pending' AND d.next_attempt_at <= ?"
            "  AND de.disabled_at IS NULL ORDER BY d.next_attempt_at, d.id LIMIT 1"
            "  FOR UPDATE OF d SKIP LOCKED)"
            " RETURNING o.id, o.endpoint_id, o.event_id, o.payload, e.url",
            (now + lease, now))
        if row is None:
            return None
        return DueEvent(row["id"], row["endpoint_id"], row["event_id"], row["payload"],
                        row["url"])

    def record_attempt(self, outbox_id: int, *, at: int, http_status: int | None,
                       error: str | None, duration_ms: int) -> tuple[str, int]:
        with self._db.transaction():
            current = self._db.one("SELECT status, attempts FROM webhook_outbox WHERE id = ?"
                                   + self._locking(), (outbox_id,))
            self._db.execute(
                "INSERT INTO webhook_attempts (outbox_id, attempted_at, http_status, error,"
                " duration_ms) VALUES (?, ?, ?, ?, ?)",
                (outbox_id, at, http_status, error, duration_ms))
        return str(current["status"]), int(current["attempts"])
