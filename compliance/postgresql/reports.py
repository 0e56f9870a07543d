"""The compliance reports' queries in PostgreSQL:
:class:`compliance.repositories.ReportRepository` (what both engines share is
:class:`compliance.sql.reports.SqlReports`).

The records of processing are summed up with PostgreSQL's aggregates (``array_agg(DISTINCT
...)``, a grant's ``fields`` unnested with ``json_array_elements_text``); periods are
``date_trunc`` of the Unix time taken as UTC. The brand's grants come in the order they were
written in by ``rowid``, a column here. ``grants`` is member-owned; every query here reads it
alone or with shared tables (``brands``, ``oauth_clients``), never joined to another
member-owned one.
"""

from __future__ import annotations

from typing import Any

from consent.postgresql.grants import grant_from_row

from ..repositories import Period
from ..sql.reports import LIVE, LIVE_G, SqlReports


class PostgresqlReports(SqlReports):
    _TALLIES = (
        "SELECT brand_id, purpose, count(DISTINCT member_id), count(*),"
        " count(*) FILTER (WHERE mode = 'individual'), min(retention_days),"
        " max(retention_days), sum(onward_sharing),"
        " array_agg(DISTINCT third_party) FILTER (WHERE third_party IS NOT NULL),"
        " array_agg(DISTINCT jurisdiction), array_agg(DISTINCT agreement),"
        " array_agg(DISTINCT collection_method)"
        f" FROM grants WHERE {LIVE} GROUP BY brand_id, purpose ORDER BY brand_id, purpose")
    _SELECTORS = (
        "SELECT g.brand_id, g.purpose, array_agg(DISTINCT f.value)"
        " FROM grants AS g, json_array_elements_text(g.fields::json) AS f (value)"
        f" WHERE {LIVE_G}"
        " GROUP BY g.brand_id, g.purpose")
    # date_trunc's 'week' is ISO's, from Monday.
    _PERIOD_START = {
        Period.MONTH: "to_char(date_trunc('month', to_timestamp({0}) AT TIME ZONE 'UTC'),"
                      " 'YYYY-MM-DD')",
        Period.WEEK: "to_char(date_trunc('week', to_timestamp({0}) AT TIME ZONE 'UTC'),"
                     " 'YYYY-MM-DD')",
    }
    _grant = staticmethod(grant_from_row)

    @staticmethod
    def _values(aggregate: Any) -> frozenset[str]:
        """An ``array_agg``'s values (NULL when its FILTER kept none)."""
        return frozenset(aggregate or ())
