"""The compliance reports' queries in SQLCipher: :class:`compliance.repositories.ReportRepository`.

Read only. Grants are read with consent's own row mapping (``consent/sqlcipher/grants.py``), so
a grant here is the same record the decision point sees; the records of processing are summed
up here, per brand and purpose, with SQLite's aggregates and JSON functions (a grant's
``fields`` is a JSON array), so a report over many grants reads one row per purpose. Periods
are UTC calendar months or ISO weeks (Monday first), computed by SQLite's date functions from
the Unix times.
"""

from __future__ import annotations

import json
from typing import Any

from consent.model import Grant
from consent.sqlcipher.grants import grant_from_row
from vault.sqlcipher import SqlcipherRepository

from ..repositories import ActivityRow, BrandFacts, Period, PurposeTally

_BRANDS = (
    "SELECT b.id, b.name, b.categories, b.created_at, count(c.client_id),"
    " coalesce(sum(c.status = 'active'), 0)"
    " FROM brands AS b LEFT JOIN oauth_clients AS c ON c.brand_id = b.id")
# The first day of the period of a Unix time ``{0}``: the month's 1st, or the week's Monday
# ('weekday 0' moves to the next Sunday, or stays on one; six days back is its Monday).
_PERIOD_START = {
    Period.MONTH: "date({0}, 'unixepoch', 'start of month')",
    Period.WEEK: "date({0}, 'unixepoch', 'weekday 0', '-6 days')",
}
_LIVE = "status = 'active' AND starts_at <= ? AND ends_at > ?"   # (now, now): in force
_LIVE_G = "g.status = 'active' AND g.starts_at <= ? AND g.ends_at > ?"


def _brand(row: Any) -> BrandFacts:
    return BrandFacts(row[0], row[1], tuple(json.loads(row[2] or "[]")), int(row[3]),
                      int(row[4]), int(row[5]))


class SqlcipherReports(SqlcipherRepository):
    def brands(self) -> list[BrandFacts]:
        return [_brand(row) for row in self._db.all(
            f"{_BRANDS} GROUP BY b.id ORDER BY b.name, b.id")]

    def brand(self, brand_id: str) -> BrandFacts | None:
        row = self._db.one(f"{_BRANDS} WHERE b.id = ? GROUP BY b.id", (brand_id,))
        return None if row is None else _brand(row)

    def purposes_in_force(self, now: int) -> list[PurposeTally]:
        tallies = self._db.all(
            "SELECT brand_id, purpose, count(DISTINCT member_id), count(*),"
            " sum(mode = 'individual'), min(retention_days), max(retention_days),"
            " sum(onward_sharing),"
            " json_group_array(DISTINCT third_party) FILTER (WHERE third_party IS NOT NULL),"
            " json_group_array(DISTINCT jurisdiction), json_group_array(DISTINCT agreement),"
            " json_group_array(DISTINCT collection_method)"
            f" FROM grants WHERE {_LIVE} GROUP BY brand_id, purpose ORDER BY brand_id, purpose",
            (now, now))
        selectors = {(r[0], r[1]): frozenset(json.loads(r[2])) for r in self._db.all(
            "SELECT g.brand_id, g.purpose, json_group_array(DISTINCT f.value)"
            " FROM grants AS g, json_each(g.fields) AS f"
            f" WHERE {_LIVE_G}"
            " GROUP BY g.brand_id, g.purpose", (now, now))}
        return [PurposeTally(
            r[0], r[1], selectors.get((r[0], r[1]), frozenset()), int(r[2]), int(r[3]),
            int(r[4]), int(r[5]), int(r[6]), int(r[7]),
            *(frozenset(json.loads(r[i])) for i in range(8, 12))) for r in tallies]

    def members_in_force(self, now: int) -> dict[str, int]:
        return {str(r[0]): int(r[1]) for r in self._db.all(
            f"SELECT brand_id, count(DISTINCT member_id) FROM grants WHERE {_LIVE}"
            " GROUP BY brand_id", (now, now))}

    def live_grant_count(self, now: int) -> int:
        return int(self._db.one(f"SELECT count(*) FROM grants WHERE {_LIVE}", (now, now))[0])

    def brand_grants(self, brand_id: str) -> list[Grant]:
        return [grant_from_row(row) for row in self._db.all(
            "SELECT * FROM grants WHERE brand_id = ? ORDER BY member_id, created_at, rowid",
            (brand_id,))]

    def activity(self, period: Period, now: int) -> list[ActivityRow]:
        start = _PERIOD_START[period]
        rows = self._db.all(
            f"SELECT period, sum(kind = 'given'), sum(kind = 'withdrawn'), sum(kind = 'expired')"
            f" FROM ("
            f"  SELECT {start.format('created_at')} AS period, 'given' AS kind FROM grants"
            f"   WHERE created_at <= ?"
            f"  UNION ALL SELECT {start.format('withdrawn_at')}, 'withdrawn' FROM grants"
            f"   WHERE status = 'withdrawn' AND withdrawn_at <= ?"
            f"  UNION ALL SELECT {start.format('ends_at')}, 'expired' FROM grants"
            f"   WHERE status = 'active' AND ends_at <= ?"
            f") GROUP BY period ORDER BY period", (now, now, now))
        return [ActivityRow(str(row[0]), int(row[1]), int(row[2]), int(row[3])) for row in rows]
