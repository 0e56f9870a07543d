"""Processing restrictions in SQLCipher: :class:`consent.repositories.RestrictionRepository`.

Rows reference their member by the integer key and go with the member (``ON DELETE
CASCADE``); the decision point's read is one indexed query (``processing_restrictions_live``).
"""

from __future__ import annotations

from typing import Any

from vault.sqlcipher import SqlcipherRepository

from ..model import Restriction, RestrictionBasis, RestrictionScope

_COLUMNS = ("SELECT r.id, m.id AS member_id, r.brand_id, r.scope, r.basis, r.request_id,"
            " r.since, r.lifted_at FROM processing_restrictions r"
            " JOIN members m ON m.num = r.member_num")


def _restriction(row: Any) -> Restriction:
    return Restriction(row[0], row[1], row[2], RestrictionScope(row[3]),
                       RestrictionBasis(row[4]), row[5], row[6], row[7])


class SqlcipherRestrictions(SqlcipherRepository):
    def add(self, restriction: Restriction) -> int:
        cursor = self._db.execute(
            "INSERT INTO processing_restrictions (member_num, brand_id, scope, basis,"
            " request_id, since, lifted_at) VALUES ((SELECT num FROM members WHERE id = ?),"
            " ?, ?, ?, ?, ?, ?)",
            (restriction.member_id, restriction.brand_id, restriction.scope.value,
             restriction.basis.value, restriction.request_id, restriction.since,
             restriction.lifted_at))
        return int(cursor.lastrowid)

    def live_for(self, member_id: str, brand_id: str) -> list[Restriction]:
        return [_restriction(row) for row in self._db.all(
            f"{_COLUMNS} WHERE r.member_num = (SELECT num FROM members WHERE id = ?)"
            " AND r.lifted_at IS NULL AND (r.brand_id = ? OR r.brand_id IS NULL)"
            " ORDER BY r.id", (member_id, brand_id))]

    def for_member(self, member_id: str) -> list[Restriction]:
        return [_restriction(row) for row in self._db.all(
            f"{_COLUMNS} WHERE m.id = ? ORDER BY r.id DESC", (member_id,))]

    def lift(self, member_id: str, restriction_id: int, at: int) -> bool:
        return bool(self._db.execute(
            "UPDATE processing_restrictions SET lifted_at = ? WHERE id = ? AND lifted_at IS NULL"
            " AND member_num = (SELECT num FROM members WHERE id = ?)",
            (at, restriction_id, member_id)).rowcount)
