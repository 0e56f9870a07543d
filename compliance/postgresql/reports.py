"""The compliance reports' queries in PostgreSQL:
:class:`compliance.repositories.ReportRepository`.

Read only, and the same answers as ``compliance/sqlcipher/reports.py``. Grants are read with
consent's own row mapping (:func:`consent.postgresql.grants.grant_from_row`), so a grant here is
the same record the decision point sees. The records of processing are summed up here, per brand
and purpose, with PostgreSQL's aggregates (``count(*) FILTER``, ``array_agg(DISTINCT ...)``, a
grant's ``fields`` unnested with ``json_array_elements_text``), one row per purpose. Periods are
UTC calendar months or ISO weeks (Monday first): ``date_trunc`` of the Unix time taken as UTC.

A brand's grants that share a member and a creation time come in the order they were written in
(``rowid``, a column here), as on SQLite. ``grants`` is member-owned; every query here reads it
alone or with shared tables (``brands``, ``oauth_clients``), never joined to another
member-owned one.
"""

from __future__ import annotations

import json
from typing import Any

from consent.model import Grant
from consent.postgresql.grants import grant_from_row
from vault.postgresql import PostgresqlRepository

from ..repositories import ActivityRow, BrandFacts, Period, PurposeTally

_BRANDS = (
    "SELECT b.id, b.name, b.categories, b.created_at, count(c.client_id),"
    " count(c.client_id) FILTER (WHERE c.status = 'active')"
    " FROM brands AS b LEFT JOIN oauth_clients AS c ON c.brand_id = b.id")
# The first day (YYYY-MM-DD) of the UTC period of a Unix time ``{0}``: date_trunc's 'week' is
# ISO's, from Monday.
_PERIOD_START = {
    Period.MONTH: "to_char(date_trunc('month', to_timestamp({0}) AT TIME ZONE 'UTC'),"
                  " 'YYYY-MM-DD')",
    Period.WEEK: "to_char(date_trunc('week', to_timestamp({0}) AT TIME ZONE 'UTC'),"
                 " 'YYYY-MM-DD')",
}
_LIVE = "status = 'active' AND starts_at <= ? AND ends_at > ?"   # (now, now): in force
_LIVE_G = "g.status = 'active' AND g.starts_at <= ? AND g.ends_at > ?"


def _brand(row: Any) -> BrandFacts:
    return BrandFacts(row[0], row[1], tuple(json.loads(row[2] or "[]")), int(row[3]),
                      int(row[4]), int(row[5]))


def _set(values: list[str] | None) -> frozenset[str]:
    """An ``array_agg``'s values (NULL when its FILTER kept none)."""
    return frozenset(values or ())


class PostgresqlReports(PostgresqlRepository):
    def brands(self) -> list[BrandFacts]:
        return [_brand(row) for row in self._db.all(
            f"{_BRANDS} GROUP BY b.id ORDER BY b.name, b.id")]

    def brand(self, brand_id: str) -> BrandFacts | None:
        row = self._db.one(f"{_BRANDS} WHERE b.id = ? GROUP BY b.id", (brand_id,))
        return None if row is None else _brand(row)

    def purposes_in_force(self, now: int) -> list[PurposeTally]:
        tallies = self._db.all(
            "SELECT brand_id, purpose, count(DISTINCT member_id), count(*),"
            " count(*) FILTER (WHERE mode = 'individual'), min(retention_days),"
            " max(retention_days), sum(onward_sharing),"
            " array_agg(DISTINCT third_party) FILTER (WHERE third_party IS NOT NULL),"
            " array_agg(DISTINCT jurisdiction), array_agg(DISTINCT agreement),"
            " array_agg(DISTINCT collection_method)"
            f" FROM grants WHERE {_LIVE} GROUP BY brand_id, purpose ORDER BY brand_id, purpose",
            (now, now))
        selectors = {(r[0], r[1]): _set(r[2]) for r in self._db.all(
            "SELECT g.brand_id, g.purpose, array_agg(DISTINCT f.value)"
            " FROM grants AS g, json_array_elements_text(g.fields::json) AS f (value)"
            f" WHERE {_LIVE_G}"
            " GROUP BY g.brand_id, g.purpose", (now, now))}
        return [PurposeTally(
            r[0], r[1], selectors.get((r[0], r[1]), frozenset()), int(r[2]), int(r[3]),
            int(r[4]), int(r[5]), int(r[6]), int(r[7]),
            *(_set(r[i]) for i in range(8, 12))) for r in tallies]

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
