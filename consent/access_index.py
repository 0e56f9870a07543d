"""The brand reads of each member: the rows behind the member's "Who read what".

Every brand read of member data is already a ledger entry (``access:profile:read``,
``access:feedback:read``, or ``survey:answer:released`` for a member's survey answers released
individually; actor ``brand:<brand id>``, details naming the member's principal,
purpose, fields, grants and client). The ledger's search index (``consent/ledger_search.py``),
written in the same transaction as each entry, holds every entry's principal, brand, tag and
time: a member's reads are its rows with a read's tag, a brand and a principal, found by member
and time without reading any other body, through
:class:`consent.repositories.AccessIndexRepository` (``Ledger.access_index``). One index ordered
by member serves both the console's search and the member's page, filled a few thousand reads
at a time (the recent rows, consent/ledger_search.py), so a read costs a small part of a page
written in it.

Invariants:
- Derived, not recorded: what is found holds nothing its entry does not (the principal and brand
  id from the entry, its seq and time), it is not part of the Merkle tree, and it can be rebuilt
  from the entries at any time.
- Pseudonyms only, like the entries: erasing a member touches neither (the ledger needs no
  erasure). What the member's page showed goes with the member all the same: the principal is a
  keyed pseudonym of the member id, and once the member is erased no sign-in and no member id
  is left to compute it from, so nobody is shown those reads again.
- A read is an entry of the shape the brand API records: one of :data:`ACCESS_TAGS`, a ``member``
  principal in its details and a ``brand:`` actor. Others (tests, benchmarks) are ledger entries
  all the same, and found by the console's search.
"""

from __future__ import annotations

from dataclasses import dataclass

from .events import EventTag, LedgerEntry

ACCESS_TAGS = frozenset({EventTag.ACCESS_PROFILE_READ, EventTag.ACCESS_FEEDBACK_READ,
                         EventTag.SURVEY_ANSWER_RELEASED})


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
