"""Care cases in PostgreSQL: :class:`community.repositories.CareCaseRepository`.

A case is its member's row (``member_id`` first in its key, ``member_num`` carried as SQLite
keys it) and is deleted with the member (``ON DELETE CASCADE``, and the erasure's own list).
Its id is random, unique by construction: the brand's side finds a case by it alone. Every
state change is one conditional ``UPDATE``, which locks the row and re-checks its condition on
the latest committed version, so two closings (the member's and the brand's, or a sweep)
cannot both win: the caller learns from the row count whether it was its change.
"""

from __future__ import annotations

from typing import Any

from vault.postgresql import PostgresqlRepository

from ..repositories import CareCaseRow

_COLUMNS = ("SELECT id, member_id, brand_id, grant_id, source, source_ref, contact_field, state,"
            " answer_sealed, opened_at, ends_at, answered_at, closed_at, closed_by"
            " FROM care_cases")


def _case(row: Any) -> CareCaseRow:
    values = [row[i] for i in range(14)]
    if values[8] is not None:
        values[8] = bytes(values[8])
    return CareCaseRow(*values)


class PostgresqlCareCases(PostgresqlRepository):
    def insert(self, case: CareCaseRow) -> None:
        self._db.execute(
            "INSERT INTO care_cases (member_id, id, member_num, brand_id, grant_id, source,"
            " source_ref, contact_field, state, answer_sealed, opened_at, ends_at, answered_at,"
            " closed_at, closed_by) VALUES (?, ?, (SELECT num FROM members WHERE id = ?), ?, ?,"
            " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (case.member_id, case.id, case.member_id, case.brand_id, case.grant_id,
             case.source, case.source_ref, case.contact_field, case.state, case.answer_sealed,
             case.opened_at, case.ends_at, case.answered_at, case.closed_at, case.closed_by))

    def get(self, case_id: str) -> CareCaseRow | None:
        row = self._db.one(f"{_COLUMNS} WHERE id = ?", (case_id,))
        return None if row is None else _case(row)

    def for_member(self, member_id: str) -> list[CareCaseRow]:
        return [_case(row) for row in self._db.all(
            f"{_COLUMNS} WHERE member_id = ? ORDER BY opened_at DESC, id", (member_id,))]

    def for_brand(self, brand_id: str, *, live_at: int | None, limit: int,
                  offset: int) -> list[CareCaseRow]:
        live, parameters = ("", ()) if live_at is None else (
            " AND state != 'closed' AND ends_at > ?", (live_at,))
        return [_case(row) for row in self._db.all(
            f"{_COLUMNS} WHERE brand_id = ?{live} ORDER BY opened_at DESC, id"
            " LIMIT ? OFFSET ?", (brand_id, *parameters, limit, offset))]

    def live_for(self, member_id: str, brand_id: str, now: int) -> list[CareCaseRow]:
        return [_case(row) for row in self._db.all(
            f"{_COLUMNS} WHERE member_id = ? AND brand_id = ? AND state != 'closed'"
            " AND ends_at > ? ORDER BY opened_at, id", (member_id, brand_id, now))]

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
            f"{_COLUMNS} WHERE state != 'closed' AND ends_at <= ? ORDER BY ends_at, id",
            (now,))]
