"""The webhook outbox: what is queued for which endpoint, and every access to its tables.

Invariants:
- A row is written in the transaction of the change it announces (a withdrawn grant, an
  erasure), so both commit or neither does.
- One event id per brand and event, the same on each of the brand's endpoints, never shared
  with another brand.
- A row is claimed under the write lock by moving its ``next_attempt_at`` a lease ahead, so two
  workers never send it at once; a worker that dies mid-send leaves the row to be retried when
  the lease ends (delivery is at least once; brands dedupe on the event id).
- A row's status goes ``pending`` -> ``delivered`` or ``dead``; only :func:`redrive` turns a
  ``dead`` one ``pending`` again. Attempts are appended, never changed.
- Compliance listings show where, what and how it went, never the payload.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from consent.model import Grant, GrantEvent
from vault.clock import Clock
from vault.storage import Database

from ..pseudonyms import PairwisePseudonyms

CONSENT_WITHDRAWN = "consent.withdrawn"
CONSENT_EXPIRED = "consent.expired"
MEMBER_ERASED = "member.erased"
AUTHORIZATION_ENDED = "authorization.ended"
NOTIFIED_GRANT_EVENTS = {GrantEvent.WITHDRAWN: CONSENT_WITHDRAWN,
                         GrantEvent.EXPIRED: CONSENT_EXPIRED,
                         GrantEvent.ACCESS_ENDED: AUTHORIZATION_ENDED,
                         GrantEvent.RELEASED: AUTHORIZATION_ENDED,
                         GrantEvent.REPLACED: AUTHORIZATION_ENDED}
STATUSES = ("pending", "delivered", "dead")


# -- queueing ---------------------------------------------------------------------------------
def enqueue_grant_event(database: Database, pseudonyms: PairwisePseudonyms, grant: Grant,
                        event: GrantEvent, now: int) -> int:
    """Queue ``consent.withdrawn`` / ``consent.expired`` / ``authorization.ended`` for every
    live endpoint of the grant's brand; other events are not notified. The number of rows
    queued."""
    event_type = NOTIFIED_GRANT_EVENTS.get(event)
    if event_type is None:
        return 0
    data: dict[str, Any] = {"subject": pseudonyms.compute(grant.member_id, grant.brand_id),
                            "grant": grant.id, "purpose": grant.purpose}
    if event is GrantEvent.REPLACED:
        data.update(reason="replaced", consent="replaced", replaced_by=grant.replaced_by)
    elif event_type == AUTHORIZATION_ENDED:
        data.update(reason=grant.access_ended.value if grant.access_ended else event.value,
                    consent="ended" if event is GrantEvent.RELEASED else "stands")
    return _enqueue(database, grant.brand_id, event_type, data, now)


def enqueue_member_erased(database: Database, pseudonyms: PairwisePseudonyms, member_id: str,
                          now: int) -> int:
    """Queue ``member.erased`` for every brand that ever knew the member (a pairwise id handed
    out, or a grant, whatever its state). Call it before the member's rows are deleted, in the
    same transaction. The number of rows queued."""
    with database.transaction():
        brands: dict[str, list[str]] = {}
        for row in database.all(
                "SELECT brand_id, NULL AS grant_id FROM pairwise_subjects WHERE member_id = ?"
                " UNION SELECT brand_id, id FROM grants WHERE member_id = ?",
                (member_id, member_id)):
            grants = brands.setdefault(row["brand_id"], [])
            if row["grant_id"] is not None:
                grants.append(row["grant_id"])
        return sum(
            _enqueue(database, brand_id, MEMBER_ERASED,
                     {"subject": pseudonyms.compute(member_id, brand_id),
                      "grants": sorted(grants)}, now)
            for brand_id, grants in sorted(brands.items()))


def _enqueue(database: Database, brand_id: str, event_type: str, data: dict[str, Any],
             now: int) -> int:
    with database.transaction():
        endpoints = database.all(
            "SELECT e.id, e.client_id FROM webhook_endpoints AS e"
            " JOIN oauth_clients AS c ON c.client_id = e.client_id"
            " WHERE c.brand_id = ? AND e.disabled_at IS NULL ORDER BY e.id", (brand_id,))
        if not endpoints:
            return 0
        # One id per brand and event: the same on each of the brand's endpoints (one event),
        # never shared with another brand.
        event_id = str(uuid.uuid4())
        payload = json.dumps({"type": event_type, "timestamp": _utc(now), "data": data},
                             sort_keys=True, separators=(",", ":"))
        database.executemany(
            "INSERT INTO webhook_outbox (endpoint_id, client_id, event_type, event_id, payload,"
            " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(e["id"], e["client_id"], event_type, event_id, payload, now, now)
             for e in endpoints])
        return len(endpoints)


def _utc(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- what compliance sees ---------------------------------------------------------------------
@dataclass(frozen=True)
class OutboxEntry:
    """One queued event as compliance sees it: where, what, how it went (never the payload)."""

    id: int
    client_id: str
    brand_name: str
    url: str
    event_type: str
    event_id: str
    status: str
    attempts: int
    next_attempt_at: int
    created_at: int
    delivered_at: int | None
    last_result: str | None        # the last attempt's HTTP status or error class


# Shared by the listing and its count, so a page and "of N" always agree.
_OUTBOX_FILTER = " WHERE (? IS NULL OR o.client_id = ?) AND (? IS NULL OR o.status = ?)"


def outbox_entries(database: Database, *, client_id: str | None = None,
                   status: str | None = None, limit: int = 200,
                   offset: int = 0) -> list[OutboxEntry]:
    """The newest outbox rows first, optionally of one client or in one status; ``offset``
    rows skipped (for pages)."""
    rows = database.all(
        "SELECT o.*, e.url, b.name AS brand_name,"
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


def outbox_count(database: Database, *, client_id: str | None = None,
                 status: str | None = None) -> int:
    """How many rows :func:`outbox_entries` has to list with these filters."""
    return int(database.one("SELECT count(*) FROM webhook_outbox AS o" + _OUTBOX_FILTER,
                            (client_id, client_id, status, status))[0])


@dataclass(frozen=True)
class Redrive:
    """What :func:`redrive` did: the events queued again, and those it left, with why."""

    queued: tuple[int, ...]
    refused: Mapping[int, str]          # outbox id -> reason


def redrive(database: Database, *, clock: Clock, outbox_ids: Sequence[int] = (),
            client_id: str | None = None) -> Redrive:
    """Queue given-up (``dead``) events again, for delivery at the next pass: those named, or
    with ``client_id`` every dead one of that client. Each starts a fresh series of attempts
    (``attempts`` back to 0, so the full retry schedule applies again); the attempts made
    before stay in the delivery record. An event whose endpoint was removed (by its brand's
    410 Gone, or by an operator) stays dead: it has nowhere to go."""
    now = int(clock())
    queued: list[int] = []
    refused: dict[int, str] = {}
    with database.transaction():
        if client_id is not None:
            rows = database.all("SELECT o.id, o.status, e.disabled_at FROM webhook_outbox AS o"
                                " JOIN webhook_endpoints AS e ON e.id = o.endpoint_id"
                                " WHERE o.client_id = ? AND o.status = 'dead' ORDER BY o.id",
                                (client_id,))
        else:
            wanted = sorted(set(outbox_ids))
            rows = database.all("SELECT o.id, o.status, e.disabled_at FROM webhook_outbox AS o"
                                " JOIN webhook_endpoints AS e ON e.id = o.endpoint_id"
                                f" WHERE o.id IN ({','.join('?' * len(wanted))}) ORDER BY o.id",
                                wanted) if wanted else []
            found = {row["id"] for row in rows}
            refused.update({i: "no such event" for i in wanted if i not in found})
        for row in rows:
            if row["status"] != "dead":
                refused[row["id"]] = f"it is {row['status']}, not given up"
            elif row["disabled_at"] is not None:
                refused[row["id"]] = "its endpoint was removed"
            else:
                queued.append(row["id"])
        database.executemany("UPDATE webhook_outbox SET status = 'pending', attempts = 0,"
                             " next_attempt_at = ? WHERE id = ?",
                             [(now, outbox_id) for outbox_id in queued])
    return Redrive(tuple(queued), dict(sorted(refused.items())))


@dataclass(frozen=True)
class OutboxTally:
    """One client's queued events, counted by status (the compliance overview)."""

    client_id: str
    brand_name: str
    counts: Mapping[str, int]          # status -> events, every status present


def outbox_tallies(database: Database) -> list[OutboxTally]:
    """Per client that was ever sent an event, its events by status; by brand name."""
    tallies: dict[str, tuple[str, dict[str, int]]] = {}
    for row in database.all(
            "SELECT o.client_id, b.name AS brand_name, o.status, count(*) AS events"
            " FROM webhook_outbox AS o JOIN oauth_clients AS c ON c.client_id = o.client_id"
            " JOIN brands AS b ON b.id = c.brand_id"
            " GROUP BY o.client_id, o.status ORDER BY b.name, o.client_id"):
        _, counts = tallies.setdefault(row["client_id"],
                                       (row["brand_name"], dict.fromkeys(STATUSES, 0)))
        counts[row["status"]] = row["events"]
    return [OutboxTally(client_id, name, counts) for client_id, (name, counts) in
            tallies.items()]


# -- claiming and settling, for the dispatcher -------------------------------------------------
def claim_due(database: Database, *, now: int, lease: int) -> Any:
    """The next due row of a live endpoint (its id, endpoint, event id, payload and the
    endpoint's URL), with its ``next_attempt_at`` moved ``lease`` seconds ahead under the
    write lock; ``None`` when nothing is due."""
    with database.transaction():
        row = database.one(
            "SELECT o.id, o.endpoint_id, o.event_id, o.payload, e.url"
            " FROM webhook_outbox AS o JOIN webhook_endpoints AS e ON e.id = o.endpoint_id"
            " WHERE o.status = 'pending' AND o.next_attempt_at <= ?"
            " AND e.disabled_at IS NULL ORDER BY o.next_attempt_at, o.id LIMIT 1", (now,))
        if row is not None:
            database.execute("UPDATE webhook_outbox SET next_attempt_at = ? WHERE id = ?",
                             (now + lease, row["id"]))
    return row


def record_attempt(database: Database, outbox_id: int, *, at: int, http_status: int | None,
                   error: str | None, duration_ms: int) -> tuple[str, int]:
    """Append an attempt (an HTTP status or an error class name, never a body or a message);
    the row's status and attempt count as they stand now."""
    database.execute(
        "INSERT INTO webhook_attempts (outbox_id, attempted_at, http_status, error,"
        " duration_ms) VALUES (?, ?, ?, ?, ?)",
        (outbox_id, at, http_status, error, duration_ms))
    current = database.one("SELECT status, attempts FROM webhook_outbox WHERE id = ?",
                           (outbox_id,))
    return str(current["status"]), int(current["attempts"])


def mark_delivered(database: Database, outbox_id: int, *, attempts: int, at: int) -> None:
    database.execute("UPDATE webhook_outbox SET status = 'delivered', attempts = ?,"
                     " delivered_at = ? WHERE id = ?", (attempts, at, outbox_id))


def mark_dead(database: Database, outbox_id: int, *, attempts: int) -> None:
    database.execute("UPDATE webhook_outbox SET status = 'dead', attempts = ? WHERE id = ?",
                     (attempts, outbox_id))


def schedule_retry(database: Database, outbox_id: int, *, attempts: int, at: int) -> None:
    database.execute("UPDATE webhook_outbox SET attempts = ?, next_attempt_at = ? WHERE id = ?",
                     (attempts, at, outbox_id))


def give_up_pending(database: Database, endpoint_id: int) -> None:
    """Every row still pending for the endpoint becomes ``dead`` (the endpoint was disabled)."""
    database.execute("UPDATE webhook_outbox SET status = 'dead' WHERE endpoint_id = ?"
                     " AND status = 'pending'", (endpoint_id,))
