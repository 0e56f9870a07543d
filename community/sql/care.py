"""Care cases, what both engines share: :class:`community.repositories.CareCaseRepository`.

A case belongs to its member and is deleted with them (``ON DELETE CASCADE``, and the
erasure's own list). Every state change is one conditional ``UPDATE``, so two closings (the
member's and the brand's, or a sweep) cannot both win: the caller learns from the row count
whether it was its change.
"""

from __future__ import annotations

from typing import Any, ClassVar

from vault.sql import SqlRepository

from ..repositories import CareCaseRow


def care_case(row: Any) -> CareCaseRow:
    """A row of the engine's :attr:`SqlCareCases._CASES` as a :class:`CareCaseRow`."""
    values = [row[i] for i in range(14)]
    if values[8] is not None:
        values[8] = bytes(values[8])
    return CareCaseRow(*values)


class SqlCareCases(SqlRepository):
    # The engine's SELECT of a case's columns in CareCaseRow's order over ``care_cases AS c``
    # (its member's id included), and the expression of that member's id.
    _CASES: ClassVar[str]
    _MEMBER_ID: ClassVar[str]

    def get(self, case_id: str) -> CareCaseRow | None:
        row = self._db.one(f"{self._CASES} WHERE c.id = ?", (case_id,))
        return None if row is None else care_case(row)

    def for_member(self, member_id: str) -> list[CareCaseRow]:
        return [care_case(row) for row in self._db.all(
            f"{self._CASES} WHERE {self._MEMBER_ID} = ? ORDER BY c.opened_at DESC, c.id",
            (member_id,))]

    def for_brand(self, brand_id: str, *, live_at: int | None, limit: int,
                  offset: int) -> list[CareCaseRow]:
        live, parameters = ("", ()) if live_at is None else (
            " AND c.state != 'closed' AND c.ends_at > ?", (live_at,))
        return [care_case(row) for row in self._db.all(
            f"{self._CASES} WHERE c.brand_id = ?{live} ORDER BY c.opened_at DESC, c.id"
            " LIMIT ? OFFSET ?", (brand_id, *parameters, limit, offset))]

    def answer(self, case_id: str, answer_sealed: bytes, now: int) -> bool:
        return bool(self._db.execute(
            "UPDATE care_cases SET state = 'answered', answer_sealed = ?, answered_at = ?"
            " WHERE id = ? AND state != 'closed' AND ends_at > ?",
            (answer_sealed, now, case_id, now)).rowcount)

    def close(self, case_id: str, by: str, now: int) -> bool:
        return bool(self._db.execute(
            "UPDATE care_cases SET state = 'closed', closed_at = ?, closed_by = ?"
            " WHERE id = ? AND state != 'closed'", (now, by, case_id)).rowcount)
