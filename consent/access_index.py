"""The ledger's index of brand reads by member: the rows behind the member's "Who read what".

Every brand read of member data is already a ledger entry (``access:profile:read``,
``access:feedback:read``, or ``survey:answer:released`` for a member's survey answers released
individually; actor ``brand:<brand id>``, details naming the member's principal,
purpose, fields, grants and client). This index finds a member's reads among the entries without
reading every body: one row per such entry (principal, seq, brand id, time served) in the
ledger store, written by :class:`consent.ledger.Ledger` in the same transaction as the entry it
points at, and read through :class:`consent.repositories.AccessIndexRepository`
(``Ledger.access_index``).

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

from .events import Event, EventTag, LedgerEntry

ACCESS_TAGS = frozenset({EventTag.ACCESS_PROFILE_READ, EventTag.ACCESS_FEEDBACK_READ,
                         EventTag.SURVEY_ANSWER_RELEASED})
BRAND_ACTOR = "brand:"


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


@dataclass(frozen=True)
class MemberReads:
    """What one brand read of one member, summed up from the index and the entries: how many
    reads, the fields they named, the first and the last time served."""

    principal: str
    reads: int
    fields: frozenset[str]
    first_read: int
    last_read: int
