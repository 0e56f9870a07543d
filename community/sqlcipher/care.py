"""Care cases in SQLCipher: :class:`community.repositories.CareCaseRepository`.

Cases reference their member by the integer key (``members.num``) and are deleted with the
member (``ON DELETE CASCADE``, and the erasure's own list). Every state change is one
conditional ``UPDATE``, so two closings (the member's and the brand's, or a sweep) cannot both
win: the caller learns from the row count whether it was its change.
"""

from __future__ import annotations

from typing import Any

from vault.sqlcipher import SqlcipherRepository

from ..repositories import CareCaseRow

_COLUMNS = ("SELECT c.id, m.id AS member_id, c.brand_id, c.grant_id, c.source, c.source_ref,"
            " c.contact_field, c.state, c.answer_sealed, c.opened_at, c.ends_at,"
            " c.answered_at, c.closed_at, c.closed_by"
            " FROM care_cases c JOIN members m ON m.num = c.member_num")


def _case(row: Any) -> CareCaseRow:
    return CareCaseRow(*(row[i] for i in range(14)))


class SqlcipherCareCases(SqlcipherRepository):
    def insert(self, case: CareCaseRow) -> None:
        self._db.execute(
            "INSERT INTO care_cases (id, member_num, brand_id, grant_id, source, source_ref,"
            " contact_field, state, answer_sealed, opened_at, ends_at, answered_at, closed_at,"
            " closed_by) VALUES (?, (SELECT num FROM members WHERE id = ?), ?, ?, ?, ?, ?, ?,"
            " ?, ?, ?, ?, ?, ?)",
            (case.id, case.member_id, case.brand_id, case.grant_id, case.source,
             case.source_ref, case.contact_field, case.state, case.answer_sealed,
             case.opened_at, case.ends_at, case.answered_at, case.closed_at, case.closed_by))

    def get(self, case_id: str) -> CareCaseRow | None:
        row = self._db.one(f"{_COLUMNS} WHERE c.id = ?", (case_id,))
        return None if row is None else _case(row)

    def for_member(self, member_id: str) -> list[CareCaseRow]:
        return [_case(row) for row in self._db.all(
            f"{_COLUMNS} WHERE m.id = ? ORDER BY c.opened_at DESC, c.id", (member_id,))]

    def for_brand(self, brand_id: str, *, live_at: int | None, limit: int,
                  offset: int) -> list[CareCaseRow]:
        live, parameters = ("", ()) if live_at is None else (
            " AND c.state != 'closed' AND c.ends_at > ?", (live_at,))
        return [_case(row) for row in self._db.all(
            f"{_COLUMNS} WHERE c.brand_id = ?{live} ORDER BY c.opened_at DESC, c.id"
            " LIMIT ? OFFSET ?", (brand_id, *parameters, limit, offset))]

    def live_for(self, member_id: str, brand_id: str, now: int) -> list[CareCaseRow]:
        return [_case(row) for row in self._db.all(
            f"{_COLUMNS} WHERE m.id = ? AND c.brand_id = ? AND c.state != 'closed'"
            " AND c.ends_at > ?", (member_id, brand_id, now))]

    def answer(self, case_id: str, answer_sealed: bytes, now: int) -> bool:
        return bool(self._db.execute(
            "UPDATE care_cases SET state = 'answered', answer_sealed = ?, answered_at = ?"
            " WHERE id = ? AND state != 'closed' AND ends_at > ?",
            (answer_sealed, now, case_id, now)).rowcount)

    def close(self, case_id: str, by: str, now: int) -> bool:
        return bool(self._db.execute(
            "UPDATE care_cases SET state = 'closed', closed_at = ?, closed_by = ?"
            " WHERE id = ? AND state != 'closed'", (now, by, case_id)).rowcount)

    def ended_unclosed(self, now: int) -> list[CareCaseRow]:
        return [_case(row) for row in self._db.all(
            f"{_COLUMNS} WHERE c.state != 'closed' AND c.ends_at <= ? ORDER BY c.ends_at",
            (now,))]
