"""Processing restrictions in PostgreSQL: :class:`consent.repositories.RestrictionRepository`.

Member-owned rows (data migration 0008): ``member_id`` first in the key, with the member's
``num`` beside it (SQLite keys them by ``num``), filled from ``members`` when a row is added;
they go with the member (``ON DELETE CASCADE``). So every read is by ``member_id`` alone, with
no join to ``members``; the decision point's read is one indexed query
(``processing_restrictions_live``). Ids come from an identity sequence: unique across members
and never handed out twice. A restriction is lifted by one conditional ``UPDATE``.
"""

from __future__ import annotations

from typing import Any

from vault.errors import ConstraintViolationError
from vault.postgresql import PostgresqlRepository

from ..model import Restriction, RestrictionBasis, RestrictionScope

_COLUMNS = ("SELECT id, member_id, brand_id, scope, basis, request_id, since, lifted_at"
            " FROM processing_restrictions")


def _restriction(row: Any) -> Restriction:
    return Restriction(row[0], row[1], row[2], RestrictionScope(row[3]),
                       RestrictionBasis(row[4]), row[5], row[6], row[7])


class PostgresqlRestrictions(PostgresqlRepository):
    def add(self, restriction: Restriction) -> int:
        row = self._db.one(
            "INSERT INTO processing_restrictions (member_id, member_num, brand_id, scope, basis,"
            " request_id, since, lifted_at) SELECT m.id, m.num, ?, ?, ?, ?, ?, ?"
            " FROM members AS m WHERE m.id = ? RETURNING id",
            (restriction.brand_id, restriction.scope.value, restriction.basis.value,
             restriction.request_id, restriction.since, restriction.lifted_at,
             restriction.member_id))
        if row is None:
            # SQLCipher's row would name no member: its NOT NULL member_num refuses it.
            raise ConstraintViolationError(
                "NOT NULL constraint failed: processing_restrictions.member_num")
        return int(row[0])

    def live_for(self, member_id: str, brand_id: str) -> list[Restriction]:
        return [_restriction(row) for row in self._db.all(
            f"{_COLUMNS} WHERE member_id = ? AND lifted_at IS NULL"
            " AND (brand_id = ? OR brand_id IS NULL) ORDER BY id", (member_id, brand_id))]

    def for_member(self, member_id: str) -> list[Restriction]:
        return [_restriction(row) for row in self._db.all(
            f"{_COLUMNS} WHERE member_id = ? ORDER BY id DESC", (member_id,))]

    def lift(self, member_id: str, restriction_id: int, at: int) -> bool:
        return bool(self._db.execute(
            "UPDATE processing_restrictions SET lifted_at = ? WHERE member_id = ? AND id = ?"
            " AND lifted_at IS NULL", (at, member_id, restriction_id)).rowcount)
