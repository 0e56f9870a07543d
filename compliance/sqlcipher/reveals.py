"""Reveals in SQLCipher: :class:`compliance.repositories.RevealRepository` (what both engines
share is :class:`compliance.sql.reveals.SqlReveals`).

The officer's and the member's public ids are read by joining ``members`` twice; the
officer's or the member's erasure deletes their reveals by a foreign key's ``ON DELETE
CASCADE``.
"""

from __future__ import annotations

from ..repositories import RevealRecord
from ..sql.reveals import SqlReveals, reveal_record

_SELECT = ("SELECT r.id, o.id AS officer_id, r.case_ref, m.id AS member_id, r.principal,"
           " r.reason_sealed, r.reason_sha256, r.revealed_at FROM identity_reveals AS r"
           " JOIN members AS o ON o.num = r.officer_num"
           " JOIN members AS m ON m.num = r.member_num")


class SqlcipherReveals(SqlReveals):
    def insert(self, reveal: RevealRecord) -> None:
        self._db.execute(
            "INSERT INTO identity_reveals (id, officer_num, case_ref, member_num, principal,"
            " reason_sealed, reason_sha256, revealed_at)"
            " SELECT ?, o.num, ?, m.num, ?, ?, ?, ? FROM members AS o, members AS m"
            " WHERE o.id = ? AND m.id = ?",
            (reveal.id, reveal.case, reveal.principal, reveal.reason_sealed,
             reveal.reason_sha256, reveal.revealed_at, reveal.officer_id, reveal.member_id))

    def for_case(self, officer_id: str, case: str) -> list[RevealRecord]:
        return [reveal_record(row, row["officer_id"]) for row in self._db.all(
            f"{_SELECT} WHERE r.officer_num = (SELECT num FROM members WHERE id = ?)"
            " AND r.case_ref = ? ORDER BY r.revealed_at, r.rowid", (officer_id, case))]

    def latest(self, *, limit: int, offset: int = 0) -> list[RevealRecord]:
        return [reveal_record(row, row["officer_id"]) for row in self._db.all(
            f"{_SELECT} ORDER BY r.revealed_at DESC, r.rowid DESC LIMIT ? OFFSET ?",
            (limit, offset))]
