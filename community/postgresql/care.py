"""Care cases in PostgreSQL: :class:`community.repositories.CareCaseRepository` (what both
engines share is :class:`community.sql.care.SqlCareCases`).

A case is its member's row (``member_id`` first in its key, ``member_num`` carried as SQLite
keys it). Its id is random, unique by construction: the brand's side finds a case by it alone.
A state change's conditional ``UPDATE`` locks the row and re-checks its condition on the latest
committed version. Ordering ties are broken by id.
"""

from __future__ import annotations

from ..repositories import CareCaseRow
from ..sql.care import SqlCareCases, care_case


class PostgresqlCareCases(SqlCareCases):
    _CASES = ("SELECT c.id, c.member_id, c.brand_id, c.grant_id, c.source, c.source_ref,"
              " c.contact_field, c.state, c.answer_sealed, c.opened_at, c.ends_at,"
              " c.answered_at, c.closed_at, c.closed_by FROM care_cases AS c")
    _MEMBER_ID = "c.member_id"

    def insert(self, case: CareCaseRow) -> None:
        self._db.execute(
            "INSERT INTO care_cases (member_id, id, member_num, brand_id, grant_id, source,"
            " source_ref, contact_field, state, answer_sealed, opened_at, ends_at, answered_at,"
            " closed_at, closed_by) VALUES (?, ?, (SELECT num FROM members WHERE id = ?), ?, ?,"
            " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (case.member_id, case.id, case.member_id, case.brand_id, case.grant_id,
             case.source, case.source_ref, case.contact_field, case.state, case.answer_sealed,
             case.opened_at, case.ends_at, case.answered_at, case.closed_at, case.closed_by))

    def live_for(self, member_id: str, brand_id: str, now: int) -> list[CareCaseRow]:
        return [care_case(row) for row in self._db.all(
            f"{self._CASES} WHERE c.member_id = ? AND c.brand_id = ? AND c.state != 'closed'"
            " AND c.ends_at > ? ORDER BY c.opened_at, c.id", (member_id, brand_id, now))]

    def ended_unclosed(self, now: int) -> list[CareCaseRow]:
        return [care_case(row) for row in self._db.all(
            f"{self._CASES} WHERE c.state != 'closed' AND c.ends_at <= ?"
            " ORDER BY c.ends_at, c.id", (now,))]
