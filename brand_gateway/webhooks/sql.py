"""The webhook repositories, what both engines share: :class:`SqlWebhookEndpoints` and
:class:`SqlWebhookOutbox` (``brand_gateway/webhooks/repositories.py``);
``brand_gateway/storage.py`` wires the services over the engines' (``sqlcipher.py``,
``postgresql.py``).

No member owns an endpoint, an outbox row or an attempt. A claim reads the next due row and
moves its ``next_attempt_at`` a lease ahead so that no two deliverers claim one row (each
engine says how). Inside a write transaction the reads a service decides a write on hold what
they read where the engine needs it: the client's row before its live endpoints are counted,
an endpoint before it is disabled, outbox rows before their state is judged.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any, ClassVar

from vault.sql import SqlRepository

from .repositories import OutboxEntry, OutboxState, WebhookEndpoint

_ENDPOINTS = (
    "SELECT e.id, e.public_id, e.client_id, e.url, e.created_at, e.disabled_at,"
    " b.name AS brand_name"
    " FROM webhook_endpoints AS e JOIN oauth_clients AS c ON c.client_id = e.client_id"
    " JOIN brands AS b ON b.id = c.brand_id"
)
# Shared by the listing and its count, so a page and "of N" always agree.
_OUTBOX_FILTER = (" WHERE (CAST(? AS TEXT) IS NULL OR o.client_id = ?)"
                  " AND (CAST(? AS TEXT) IS NULL OR o.status = ?)")
_STATES = ("SELECT o.id, o.status, e.disabled_at FROM webhook_outbox AS o"
           " JOIN webhook_endpoints AS e ON e.id = o.endpoint_id")


def _endpoint(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(row["id"], row["public_id"], row["client_id"], row["brand_name"],
                           row["url"], row["created_at"], row["disabled_at"])


def _state(row: Any) -> OutboxState:
    return OutboxState(row["id"], row["status"], row["disabled_at"] is None)


class SqlWebhookRepository(SqlRepository):
    """What both webhook repositories share: the hook that locks a read's rows."""

    def _locking(self, of: str = "") -> str:
        """What a read a write is decided on adds to lock the rows it reads (of the table
        aliased ``of``), where the engine's write transaction does not already hold them."""
        return ""


class SqlWebhookEndpoints(SqlWebhookRepository):
    # What orders text by its bytes: nothing on SQLite (its default collation), ' COLLATE "C"'
    # on PostgreSQL.
    _BYTEWISE: ClassVar[str]

    def client_exists(self, client_id: str) -> bool:
        return self._db.one("SELECT 1 FROM oauth_clients WHERE client_id = ?"
                            + self._locking(), (client_id,)) is not None

    def live_count(self, client_id: str) -> int:
        lock = self._locking()
        if lock:  # the client's row held: two additions at once cannot both pass the limit
            self._db.execute("SELECT 1 FROM oauth_clients WHERE client_id = ?" + lock,
                             (client_id,))
        return int(self._db.one("SELECT count(*) FROM webhook_endpoints WHERE client_id = ?"
                                " AND disabled_at IS NULL", (client_id,))[0])

    def get(self, endpoint_id: int) -> WebhookEndpoint | None:
        row = self._db.one(f"{_ENDPOINTS} WHERE e.id = ?" + self._locking(of="e"),
                           (endpoint_id,))
        return None if row is None else _endpoint(row)

    def find(self, public_id: str) -> WebhookEndpoint | None:
        row = self._db.one(f"{_ENDPOINTS} WHERE e.public_id = ?" + self._locking(of="e"),
                           (public_id,))
        return None if row is None else _endpoint(row)

    def list(self, client_id: str | None = None) -> list[WebhookEndpoint]:
        return [_endpoint(r) for r in self._db.all(
            f"{_ENDPOINTS} WHERE CAST(? AS TEXT) IS NULL OR e.client_id = ? ORDER BY e.id",
            (client_id, client_id))]

    def disable(self, endpoint_id: int, now: int) -> None:
        self._db.execute("UPDATE webhook_endpoints SET disabled_at = ? WHERE id = ?",
                         (now, endpoint_id))

    def subscribe(self, endpoint_id: int, event_type: str,
                  categories: Sequence[str | None]) -> None:
        self._db.executemany(
            "INSERT INTO webhook_endpoint_events (endpoint_id, event_type, category)"
            " VALUES (?, ?, ?)", [(endpoint_id, event_type, c) for c in categories])

    def subscriptions(self, endpoint_id: int) -> builtins.list[tuple[str, str | None]]:
        return [(row["event_type"], row["category"]) for row in self._db.all(
            "SELECT event_type, category FROM webhook_endpoint_events WHERE endpoint_id = ?"
            f" ORDER BY event_type{self._BYTEWISE}, category{self._BYTEWISE} NULLS FIRST",
            (endpoint_id,))]


class SqlWebhookOutbox(SqlWebhookRepository):
    # -- queueing ---------------------------------------------------------------------------
    def subscribed_endpoints(self, brand_id: str, event_type: str, category: str
                             ) -> list[tuple[int, str]]:
        return [(row["id"], row["client_id"]) for row in self._db.all(
            "SELECT DISTINCT e.id, e.client_id FROM webhook_endpoints AS e"
            " JOIN oauth_clients AS c ON c.client_id = e.client_id"
            " JOIN webhook_endpoint_events AS s ON s.endpoint_id = e.id"
            " WHERE c.brand_id = ? AND e.disabled_at IS NULL AND s.event_type = ?"
            " AND (s.category IS NULL OR s.category = ?) ORDER BY e.id",
            (brand_id, event_type, category))]

    def live_endpoints(self, brand_id: str) -> list[tuple[int, str]]:
        return [(row["id"], row["client_id"]) for row in self._db.all(
            "SELECT e.id, e.client_id FROM webhook_endpoints AS e"
            " JOIN oauth_clients AS c ON c.client_id = e.client_id"
            " WHERE c.brand_id = ? AND e.disabled_at IS NULL ORDER BY e.id", (brand_id,))]

    def brands_knowing(self, member_id: str) -> dict[str, list[str]]:
        brands: dict[str, list[str]] = {}
        for row in self._db.all(
                "SELECT brand_id, NULL AS grant_id FROM pairwise_subjects WHERE member_id = ?"
                " UNION SELECT brand_id, id FROM grants WHERE member_id = ?"
                " AND mode = 'individual'",
                (member_id, member_id)):
            grants = brands.setdefault(row["brand_id"], [])
            if row["grant_id"] is not None:
                grants.append(row["grant_id"])
        return brands

    def queue(self, endpoints: Sequence[tuple[int, str]], *, event_type: str, event_id: str,
              payload: str, now: int) -> None:
        if not endpoints:
            return
        self._db.executemany(
            "INSERT INTO webhook_outbox (endpoint_id, client_id, event_type, event_id, payload,"
            " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(endpoint_id, client_id, event_type, event_id, payload, now, now)
             for endpoint_id, client_id in endpoints])

    # -- what compliance sees -----------------------------------------------------------------
    def entries(self, *, client_id: str | None, status: str | None, limit: int,
                offset: int) -> list[OutboxEntry]:
        rows = self._db.all(
            "SELECT o.id, o.client_id, o.event_type, o.event_id, o.status, o.attempts,"
            " o.next_attempt_at, o.created_at, o.delivered_at, e.url, b.name AS brand_name,"
            " (SELECT coalesce(CAST(a.http_status AS TEXT), a.error) FROM webhook_attempts AS a"
            "  WHERE a.outbox_id = o.id ORDER BY a.id DESC LIMIT 1) AS last_result"
            " FROM webhook_outbox AS o JOIN webhook_endpoints AS e ON e.id = o.endpoint_id"
            " JOIN oauth_clients AS c ON c.client_id = o.client_id"
            " JOIN brands AS b ON b.id = c.brand_id"
            + _OUTBOX_FILTER + " ORDER BY o.id DESC LIMIT ? OFFSET ?",
            (client_id, client_id, status, status, limit, offset))
        return [OutboxEntry(r["id"], r["client_id"], r["brand_name"], r["url"], r["event_type"],
                            r["event_id"], r["status"], r["attempts"], r["next_attempt_at"],
                            r["created_at"], r["delivered_at"], r["last_result"]) for r in rows]

    def count(self, *, client_id: str | None, status: str | None) -> int:
        return int(self._db.one("SELECT count(*) FROM webhook_outbox AS o" + _OUTBOX_FILTER,
                                (client_id, client_id, status, status))[0])

    # -- redriving ----------------------------------------------------------------------------
    def dead_of_client(self, client_id: str) -> list[OutboxState]:
        return [_state(row) for row in self._db.all(
            f"{_STATES} WHERE o.client_id = ? AND o.status = 'dead' ORDER BY o.id"
            + self._locking(of="o"), (client_id,))]

    def states(self, outbox_ids: Sequence[int]) -> list[OutboxState]:
        if not outbox_ids:
            return []
        return [_state(row) for row in self._db.all(
            f"{_STATES} WHERE o.id IN ({','.join('?' * len(outbox_ids))}) ORDER BY o.id"
            + self._locking(of="o"), list(outbox_ids))]

    def requeue(self, outbox_ids: Sequence[int], now: int) -> None:
        if not outbox_ids:
            return
        self._db.executemany("UPDATE webhook_outbox SET status = 'pending', attempts = 0,"
                             " next_attempt_at = ? WHERE id = ?",
                             [(now, outbox_id) for outbox_id in outbox_ids])

    # -- delivering ---------------------------------------------------------------------------
    def mark_delivered(self, outbox_id: int, *, attempts: int, at: int) -> None:
        self._db.execute("UPDATE webhook_outbox SET status = 'delivered', attempts = ?,"
                         " delivered_at = ? WHERE id = ?", (attempts, at, outbox_id))

    def mark_dead(self, outbox_id: int, *, attempts: int) -> None:
        self._db.execute("UPDATE webhook_outbox SET status = 'dead', attempts = ? WHERE id = ?",
                         (attempts, outbox_id))

    def schedule_retry(self, outbox_id: int, *, attempts: int, at: int) -> None:
        self._db.execute("UPDATE webhook_outbox SET attempts = ?, next_attempt_at = ?"
                         " WHERE id = ?", (attempts, at, outbox_id))

    def give_up_pending(self, endpoint_id: int) -> None:
        self._db.execute("UPDATE webhook_outbox SET status = 'dead' WHERE endpoint_id = ?"
                         " AND status = 'pending'", (endpoint_id,))
