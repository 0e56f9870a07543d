"""Processing restrictions, what both engines share:
:class:`consent.repositories.RestrictionRepository`.

Rows go with their member (``ON DELETE CASCADE``); the decision point's read is one indexed
query (``processing_restrictions_live``). A restriction is lifted by one conditional
``UPDATE``; none is ever deleted otherwise.
"""

from __future__ import annotations

from typing import Any, ClassVar

from vault.sql import SqlRepository

from ..model import Restriction, RestrictionBasis, RestrictionScope


def restriction(row: Any) -> Restriction:
    """A :class:`Restriction` from a row of the engine's :attr:`SqlRestrictions._COLUMNS`."""
    return Restriction(row[0], row[1], row[2], RestrictionScope(row[3]),
                       RestrictionBasis(row[4]), row[5], row[6], row[7])


class SqlRestrictions(SqlRepository):
    # The engine's SELECT of a restriction's columns in Restriction's order over
    # ``processing_restrictions AS r`` (its member's id included), and the condition that a row
    # is the member's whose id is the parameter.
    _COLUMNS: ClassVar[str]
    _OF_MEMBER: ClassVar[str]

    def live_for(self, member_id: str, brand_id: str) -> list[Restriction]:
        return [restriction(row) for row in self._db.all(
            f"{self._COLUMNS} WHERE {self._OF_MEMBER} AND r.lifted_at IS NULL"
            " AND (r.brand_id = ? OR r.brand_id IS NULL) ORDER BY r.id", (member_id, brand_id))]

    def for_member(self, member_id: str) -> list[Restriction]:
        return [restriction(row) for row in self._db.all(
            f"{self._COLUMNS} WHERE {self._OF_MEMBER} ORDER BY r.id DESC", (member_id,))]
