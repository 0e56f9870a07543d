"""The compliance reports' queries in SQLCipher: :class:`compliance.repositories.ReportRepository`
(what both engines share is :class:`compliance.sql.reports.SqlReports`).

The records of processing are summed up with SQLite's JSON functions (``json_group_array``,
a grant's ``fields`` walked with ``json_each``); periods are computed by SQLite's date
functions from the Unix times.
"""

from __future__ import annotations

import json
from typing import Any

from consent.sqlcipher.grants import grant_from_row

from ..repositories import Period
from ..sql.reports import LIVE, LIVE_G, SqlReports


class SqlcipherReports(SqlReports):
    _TALLIES = (
        "SELECT brand_id, purpose, count(DISTINCT member_id), count(*),"
        " sum(mode = 'individual'), min(retention_days), max(retention_days),"
        " sum(onward_sharing),"
        " json_group_array(DISTINCT third_party) FILTER (WHERE third_party IS NOT NULL),"
        " json_group_array(DISTINCT jurisdiction), json_group_array(DISTINCT agreement),"
        " json_group_array(DISTINCT collection_method)"
        f" FROM grants WHERE {LIVE} GROUP BY brand_id, purpose ORDER BY brand_id, purpose")
    _SELECTORS = (
        "SELECT g.brand_id, g.purpose, json_group_array(DISTINCT f.value)"
        " FROM grants AS g, json_each(g.fields) AS f"
        f" WHERE {LIVE_G}"
        " GROUP BY g.brand_id, g.purpose")
    # The month's 1st, or the week's Monday ('weekday 0' moves to the next Sunday, or stays
    # on one; six days back is its Monday).
    _PERIOD_START = {
        Period.MONTH: "date({0}, 'unixepoch', 'start of month')",
        Period.WEEK: "date({0}, 'unixepoch', 'weekday 0', '-6 days')",
    }
    _grant = staticmethod(grant_from_row)

    @staticmethod
    def _values(aggregate: Any) -> frozenset[str]:
        """A ``json_group_array``'s values (``[]`` when its FILTER kept none)."""
        return frozenset(json.loads(aggregate))
