"""The member's view of brand reads ("Who read what"): which brand read which fields, when, why.

Served from the ledger itself: every brand read is a ledger entry (``consent/ledger.py``), and
the ledger's access index (``consent/access_index.py``), written in the same transaction as the
entry, finds a member's reads by their principal. So a read writes nothing to the data store,
the page and the tamper-evident record cannot disagree, and each row is the entry (its seq is
shown). Brand names come from the data store.

Invariants:
- A row names fields, never their values; the purpose is a DPV code, the brand and client ids,
  and the seq of the ledger entry.
- Nothing here writes. The ledger holds pseudonyms only and is never erased; an erased member's
  reads are unreachable all the same (see ``consent/access_index.py``).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from consent.events import EventTag
from consent.ledger import Ledger
from vault.clock import Clock

if TYPE_CHECKING:
    from .repositories import BrandNameRepository

PROFILE = "profile"
FEEDBACK = "feedback"
SURVEY = "survey"
DAY = 86_400

RESOURCE_OF = {EventTag.ACCESS_PROFILE_READ: PROFILE, EventTag.ACCESS_FEEDBACK_READ: FEEDBACK,
               EventTag.SURVEY_ANSWER_RELEASED: SURVEY}


@dataclass(frozen=True)
class AccessRecord:
    """One brand read, as the member sees it."""

    id: int
    brand_id: str
    brand_name: str
    client_id: str
    resource: str
    purpose: str
    fields: tuple[str, ...]
    ledger_seq: int
    read_at: int


@dataclass(frozen=True)
class AccessPage:
    records: tuple[AccessRecord, ...]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class DailyReads:
    """How many reads one brand made on one UTC day."""

    day: dt.date
    brand_name: str
    reads: int


class AccessLog:
    """Lists a member's reads from the ledger, by the member's ledger principal."""

    def __init__(self, *, ledger: Ledger, names: BrandNameRepository, clock: Clock) -> None:
        self._index = ledger.access_index
        self._ledger = ledger
        self._names = names
        self._clock = clock

    def page(self, principal: str, *, page: int = 1, per_page: int = 50) -> AccessPage:
        """The member's reads, newest first; ``page`` counts from 1 (past the end: empty)."""
        page, per_page = max(1, page), max(1, per_page)
        total = self._index.count(principal)
        reads = self._index.reads(principal, limit=per_page, offset=(page - 1) * per_page)
        names = self._brand_names({read.brand_id for read in reads})
        records = []
        for read in reads:
            details = read.entry.details
            records.append(AccessRecord(
                read.entry.seq, read.brand_id, names.get(read.brand_id, read.brand_id),
                str(details.get("client", "")), RESOURCE_OF[read.entry.tag],
                str(details.get("purpose", "")), tuple(details.get("fields", ())),
                read.entry.seq, read.read_at))
        return AccessPage(tuple(records), page, per_page, total)

    def every(self, principal: str, *, batch: int = 1000) -> list[AccessRecord]:
        """All the member's reads, newest first (for their export), from one snapshot of the
        ledger: reads merged meanwhile neither shift nor repeat a page."""
        records: list[AccessRecord] = []
        with self._ledger.snapshot():
            for number in itertools.count(1):
                page = self.page(principal, page=number, per_page=batch).records
                records += page
                if len(page) < batch:
                    return records
        raise AssertionError("unreachable")   # pragma: no cover

    def daily(self, principal: str, *, days: int = 14) -> list[DailyReads]:
        """Reads per brand per UTC day over the last ``days`` days, today included."""
        today = int(self._clock()) // DAY
        rows = self._index.daily(principal, since=(today - days + 1) * DAY, day=DAY)
        names = self._brand_names({row.brand_id for row in rows})
        epoch = dt.date(1970, 1, 1)
        daily = [DailyReads(epoch + dt.timedelta(days=row.day),
                            names.get(row.brand_id, row.brand_id), row.reads) for row in rows]
        return sorted(daily, key=lambda d: (d.day, d.brand_name))

    def _brand_names(self, brand_ids: set[str]) -> dict[str, str]:
        return self._names.names(brand_ids) if brand_ids else {}
