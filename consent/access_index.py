"""The ledger's index of brand reads by member: the rows behind the member's "Who read what".

Every brand read of member data is already a ledger entry (``access:profile:read`` or
``access:feedback:read``, actor ``brand:<brand id>``, details naming the member's principal,
purpose, fields, grants and client). This index finds a member's reads among the entries without
reading every body: one row per such entry, ``access_index(principal, seq, brand_id, read_at)``
in ``ledger.db``, written by :meth:`consent.ledger.Ledger` in the same transaction as the entry
it points at.

Invariants:
- Derived, not recorded: a row holds nothing its entry does not (the principal and brand id
  from the entry, its seq and time), it is not part of the Merkle tree, and it can be rebuilt
  from the entries at any time. Rows are appended with their entries, never updated or deleted.
- Pseudonyms only, like the entries: erasing a member touches neither (the ledger needs no
  erasure). What the member's page showed goes with the member all the same: the principal is a
  keyed pseudonym of the member id, and once the member is erased no sign-in and no member id
  is left to compute it from, so nobody is shown those reads again.
- An entry is indexed only if it has the shape the brand API records: a ``member`` principal in
  its details and a ``brand:`` actor. Others (tests, benchmarks) are ledger entries all the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from vault.storage import Database

from .events import Event, EventTag, LedgerEntry
from .merkle import leaf_hash

ACCESS_TAGS = frozenset({EventTag.ACCESS_PROFILE_READ, EventTag.ACCESS_FEEDBACK_READ})
BRAND_ACTOR = "brand:"
INSERT = "INSERT INTO access_index (principal, seq, brand_id, read_at) VALUES (?, ?, ?, ?)"


def index_row(seq: int, read_at: int, event: Event) -> tuple[str, int, str, int] | None:
    """The index row of ``event`` appended at ``seq``, or ``None`` if it is not a brand read."""
    if event.tag not in ACCESS_TAGS or not event.actor.startswith(BRAND_ACTOR):
        return None
    principal = event.details.get("member")
    if not isinstance(principal, str) or len(event.actor) == len(BRAND_ACTOR):
        return None
    return principal, seq, event.actor[len(BRAND_ACTOR):], read_at


@dataclass(frozen=True)
class IndexedRead:
    """One brand read of a member's data: its ledger entry, the brand and the time."""

    entry: LedgerEntry
    brand_id: str
    read_at: int


@dataclass(frozen=True)
class ReadsOnDay:
    """How many reads one brand made on one UTC day (days since 1970-01-01)."""

    day: int
    brand_id: str
    reads: int


class AccessIndex:
    """Reads a member's indexed reads, newest first (by the time they were served); writes
    nothing (the ledger does)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def count(self, principal: str) -> int:
        return int(self._db.one("SELECT count(*) FROM access_index WHERE principal = ?",
                                (principal,))[0])

    def reads(self, principal: str, *, limit: int, offset: int = 0) -> list[IndexedRead]:
        rows = self._db.all(
            "SELECT a.brand_id, a.read_at, e.body FROM access_index AS a"
            " JOIN entries AS e ON e.seq = a.seq WHERE a.principal = ?"
            # By when they were served: reads merged from the workers' spools enter the
            # ledger in batches, one spool after another, not in the order they were served.
            " ORDER BY a.read_at DESC, a.seq DESC LIMIT ? OFFSET ?", (principal, limit, offset))
        reads = []
        for brand_id, read_at, body in rows:
            body = bytes(body)
            reads.append(IndexedRead(LedgerEntry.from_body(body, leaf_hash(body)), brand_id,
                                     int(read_at)))
        return reads

    def daily(self, principal: str, *, since: int, day: int) -> list[ReadsOnDay]:
        """Reads per brand per ``day``-second period from Unix time ``since`` on."""
        rows = self._db.all(
            "SELECT read_at / ? AS day, brand_id, count(*) FROM access_index"
            " WHERE principal = ? AND read_at >= ? GROUP BY day, brand_id ORDER BY day",
            (day, principal, since))
        return [ReadsOnDay(int(r[0]), str(r[1]), int(r[2])) for r in rows]
