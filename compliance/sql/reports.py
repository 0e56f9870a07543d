"""The compliance reports' queries, what both engines share:
:class:`compliance.repositories.ReportRepository`.

Read only. Grants are read with consent's own row mapping, so a grant here is the same record
the decision point sees; the records of processing are summed up per brand and purpose with the
engine's aggregates (a grant's ``fields`` is a JSON array), so a report over many grants reads
one row per purpose. Periods are UTC calendar months or ISO weeks (Monday first), computed by
the engine's date functions from the Unix times. A brand's grants that share a member and a
creation time come in the order they were written in (``rowid``).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from consent.model import Grant
from vault.sql import SqlRepository

from ..repositories import ActivityRow, BrandFacts, Period, PurposeTally

# A brand and the count of its clients, all and active; ``count(...) FILTER`` on both engines.
BRANDS = (
    "SELECT b.id, b.name, b.categories, b.created_at, count(c.client_id),"
    " count(c.client_id) FILTER (WHERE c.status = 'active')"
    " FROM brands AS b LEFT JOIN oauth_clients AS c ON c.brand_id = b.id")
LIVE = "status = 'active' AND starts_at <= ? AND ends_at > ?"   # (now, now): in force
LIVE_G = "g.status = 'active' AND g.starts_at <= ? AND g.ends_at > ?"


def brand_facts(row: Any) -> BrandFacts:
    """A row of :data:`BRANDS` as :class:`BrandFacts`."""
    return BrandFacts(row[0], row[1], tuple(json.loads(row[2] or "[]")), int(row[3]),
                      int(row[4]), int(row[5]))


class SqlReports(SqlRepository, ABC):
    # The engine's statements of the purposes in force, each taking (now, now): per brand and
    # purpose, the tallies in PurposeTally's order from its third field on (its sets as the
    # engine aggregates them, see _values), and the field selectors granted; and the first day
    # (YYYY-MM-DD) of the UTC period of a Unix time ``{0}``, per period.
    _TALLIES: ClassVar[str]
    _SELECTORS: ClassVar[str]
    _PERIOD_START: ClassVar[Mapping[Period, str]]

    @staticmethod
    @abstractmethod
    def _values(aggregate: Any) -> frozenset[str]:
        """The set of strings an aggregate column of :attr:`_TALLIES` or :attr:`_SELECTORS`
        holds, as the engine returns it."""

    @staticmethod
    @abstractmethod
    def _grant(row: Any) -> Grant:
        """A :class:`Grant` from a row of ``SELECT * FROM grants`` (consent's row mapping)."""

    def brands(self) -> list[BrandFacts]:
        return [brand_facts(row) for row in self._db.all(
            f"{BRANDS} GROUP BY b.id ORDER BY b.name, b.id")]

    def brand(self, brand_id: str) -> BrandFacts | None:
        row = self._db.one(f"{BRANDS} WHERE b.id = ? GROUP BY b.id", (brand_id,))
        return None if row is None else brand_facts(row)

    def purposes_in_force(self, now: int) -> list[PurposeTally]:
        tallies = self._db.all(self._TALLIES, (now, now))
        selectors = {(r[0], r[1]): self._values(r[2])
                     for r in self._db.all(self._SELECTORS, (now, now))}
        return [PurposeTally(
            r[0], r[1], selectors.get((r[0], r[1]), frozenset()), int(r[2]), int(r[3]),
            int(r[4]), int(r[5]), int(r[6]), int(r[7]),
            *(self._values(r[i]) for i in range(8, 12))) for r in tallies]

    def members_in_force(self, now: int) -> dict[str, int]:
        return {str(r[0]): int(r[1]) for r in self._db.all(
            f"SELECT brand_id, count(DISTINCT member_id) FROM grants WHERE {LIVE}"
            " GROUP BY brand_id", (now, now))}

    def live_grant_count(self, now: int) -> int:
        return int(self._db.one(f"SELECT count(*) FROM grants WHERE {LIVE}", (now, now))[0])

    def brand_grants(self, brand_id: str) -> list[Grant]:
        return [self._grant(row) for row in self._db.all(
            "SELECT * FROM grants WHERE brand_id = ? ORDER BY member_id, created_at, rowid",
            (brand_id,))]

    def activity(self, period: Period, now: int) -> list[ActivityRow]:
        start = self._PERIOD_START[period]
        rows = self._db.all(
            "SELECT period, count(*) FILTER (WHERE kind = 'given'),"
            " count(*) FILTER (WHERE kind = 'withdrawn'),"
            " count(*) FILTER (WHERE kind = 'expired')"
            " FROM ("
            f"  SELECT {start.format('created_at')} AS period, 'given' AS kind FROM grants"
            "   WHERE created_at <= ?"
            f"  UNION ALL SELECT {start.format('withdrawn_at')}, 'withdrawn' FROM grants"
            "   WHERE status = 'withdrawn' AND withdrawn_at <= ?"
            f"  UNION ALL SELECT {start.format('ends_at')}, 'expired' FROM grants"
            "   WHERE status = 'active' AND ends_at <= ?"
            ") AS events GROUP BY period ORDER BY period", (now, now, now))
        return [ActivityRow(str(row[0]), int(row[1]), int(row[2]), int(row[3])) for row in rows]
