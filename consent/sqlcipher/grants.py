"""Grants and their receipts in SQLCipher: :class:`consent.repositories.GrantRepository`
(what both engines share is :class:`consent.sql.grants.SqlGrants`; :func:`grant_from_row` is
its row mapper, named here too)."""

from __future__ import annotations

from ..sql.grants import SqlGrants
from ..sql.grants import grant_from_row as grant_from_row


class SqlcipherGrants(SqlGrants):
    _BYTEWISE = ""

    def duplicated(self, now: int) -> list[tuple[str, str, str]]:
        return [(row[0], row[1], row[2]) for row in self._db.all(
            "SELECT member_id, brand_id, purpose FROM grants WHERE status = 'active'"
            " AND ends_at > ? GROUP BY member_id, brand_id, purpose HAVING count(*) > 1",
            (now,))]
