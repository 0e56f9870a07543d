"""Processing restrictions in SQLCipher: :class:`consent.repositories.RestrictionRepository`
(what both engines share is :class:`consent.sql.restrictions.SqlRestrictions`).

Rows reference their member by the integer key (``members.num``): a row's member id is read
through ``members``.
"""

from __future__ import annotations

from ..model import Restriction
from ..sql.restrictions import SqlRestrictions

_MEMBER_NUM = "(SELECT num FROM members WHERE id = ?)"


class SqlcipherRestrictions(SqlRestrictions):
    _COLUMNS = ("SELECT r.id, m.id AS member_id, r.brand_id, r.scope, r.basis, r.request_id,"
                " r.since, r.lifted_at FROM processing_restrictions r"
                " JOIN members m ON m.num = r.member_num")
    _OF_MEMBER = f"r.member_num = {_MEMBER_NUM}"

    def add(self, restriction: Restriction) -> int:
        cursor = self._db.execute(
            "INSERT INTO processing_restrictions (member_num, brand_id, scope, basis,"
            f" request_id, since, lifted_at) VALUES ({_MEMBER_NUM}, ?, ?, ?, ?, ?, ?)",
            (restriction.member_id, restriction.brand_id, restriction.scope.value,
             restriction.basis.value, restriction.request_id, restriction.since,
             restriction.lifted_at))
        return int(cursor.lastrowid)

    def reinstate(self, restriction: Restriction) -> bool:
        # No AUTOINCREMENT: a new row takes the largest id plus one, past this one.
        return bool(self._db.execute(
            "INSERT INTO processing_restrictions (id, member_num, brand_id, scope, basis,"
            " request_id, since, lifted_at) SELECT ?, m.num, ?, ?, ?, ?, ?, ? FROM members m"
            " WHERE m.id = ? AND NOT EXISTS (SELECT 1 FROM processing_restrictions"
            " WHERE id = ?)",
            (restriction.id, restriction.brand_id, restriction.scope.value,
             restriction.basis.value, restriction.request_id, restriction.since,
             restriction.lifted_at, restriction.member_id, restriction.id)).rowcount)

    def lift(self, member_id: str, restriction_id: int, at: int) -> bool:
        return bool(self._db.execute(
            "UPDATE processing_restrictions SET lifted_at = ? WHERE id = ? AND lifted_at IS NULL"
            f" AND member_num = {_MEMBER_NUM}", (at, restriction_id, member_id)).rowcount)
