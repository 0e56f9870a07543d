"""The webhook repositories in SQLCipher, over the data store's
:class:`vault.sqlcipher.database.Database`: :class:`SqlcipherWebhookEndpoints` and
:class:`SqlcipherWebhookOutbox` (what both engines share is in :mod:`.sql`).

A claim is the write lock (``BEGIN IMMEDIATE``, :mod:`vault.sqlcipher.database`) around reading
the next due row and moving its ``next_attempt_at`` a lease ahead, so two processes never claim
one row; the same lock holds whatever a service reads before it writes.
"""

from __future__ import annotations

from vault.errors import ConstraintViolationError
from vault.sqlcipher.database import Database

from .repositories import DueEvent
from .sql import SqlWebhookEndpoints, SqlWebhookOutbox


class SqlcipherWebhookEndpoints(SqlWebhookEndpoints):
    _db: Database
    _BYTEWISE = ""

    def insert(self, client_id: str, public_id: str, url: str, created_at: int) -> int | None:
        try:
            cursor = self._db.execute(
                "INSERT INTO webhook_endpoints (client_id, public_id, url, created_at)"
                " VALUES (?, ?, ?, ?)", (client_id, public_id, url, created_at))
        except ConstraintViolationError:
            return None
        return int(cursor.lastrowid)


class SqlcipherWebhookOutbox(SqlWebhookOutbox):
    # -- what compliance sees -----------------------------------------------------------------
    def tallies(self) -> list[tuple[str, str, str, int]]:
        return [(row["client_id"], row["brand_name"], row["status"], row["events"])
                for row in self._db.all(
                    "SELECT o.client_id, b.name AS brand_name, o.status, count(*) AS events"
                    " FROM webhook_outbox AS o"
                    " JOIN oauth_clients AS c ON c.client_id = o.client_id"
                    " JOIN brands AS b ON b.id = c.brand_id"
                    " GROUP BY o.client_id, o.status ORDER BY b.name, o.client_id")]

    # -- delivering ---------------------------------------------------------------------------
    def claim_due(self, *, now: int, lease: int) -> DueEvent | None:
        with self._db.transaction():
            row = self._db.one(
                "SELECT o.id, o.endpoint_id, o.event_id, o.payload, e.url"
                " FROM webhook_outbox AS o JOIN webhook_endpoints AS e ON e.id = o.endpoint_id"
                " WHERE o.status = 'pending' AND o.next_attempt_at <= ?"
                " AND e.disabled_at IS NULL ORDER BY o.next_attempt_at, o.id LIMIT 1", (now,))
            if row is None:
                return None
            self._db.execute("UPDATE webhook_outbox SET next_attempt_at = ? WHERE id = ?",
                             (now + lease, row["id"]))
        return DueEvent(row["id"], row["endpoint_id"], row["event_id"], row["payload"],
                        row["url"])

    def record_attempt(self, outbox_id: int, *, at: int, http_status: int | None,
                       error: str | None, duration_ms: int) -> tuple[str, int]:
        self._db.execute(
            "INSERT INTO webhook_attempts (outbox_id, attempted_at, http_status, error,"
            " duration_ms) VALUES (?, ?, ?, ?, ?)",
            (outbox_id, at, http_status, error, duration_ms))
        current = self._db.one("SELECT status, attempts FROM webhook_outbox WHERE id = ?",
                               (outbox_id,))
        return str(current["status"]), int(current["attempts"])
