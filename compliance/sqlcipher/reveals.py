"""Reveals in SQLCipher (table ``identity_reveals``, data migration 0009):
:class:`compliance.repositories.RevealRepository`. Accounts are referenced by their integer
``num`` (as the hot tables do) and read back by their public ``id``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vault.sqlcipher import SqlcipherRepository

from ..repositories import RevealRecord

_SELECT = ("SELECT r.id, o.id AS officer_id, r.case_ref, m.id AS member_id, r.principal,"
           " r.reason_sealed, r.reason_sha256, r.revealed_at FROM identity_reveals AS r"
           " JOIN members AS o ON o.num = r.officer_num"
           " JOIN members AS m ON m.num = r.member_num")


def _record(row: Any) -> RevealRecord:
    return RevealRecord(row["id"], row["officer_id"], row["case_ref"], row["member_id"],
                        row["principal"], row["reason_sealed"], row["reason_sha256"],
                        row["revealed_at"])


class SqlcipherReveals(SqlcipherRepository):
    def insert(self, reveal: RevealRecord) -> None:
        self._db.execute(
            "INSERT INTO identity_reveals (id, officer_num, case_ref, member_num, principal,"
            " reason_sealed, reason_sha256, revealed_at)"
            " SELECT ?, o.num, ?, m.num, ?, ?, ?, ? FROM members AS o, members AS m"
            " WHERE o.id = ? AND m.id = ?",
            (reveal.id, reveal.case, reveal.principal, reveal.reason_sealed,
             reveal.reason_sha256, reveal.revealed_at, reveal.officer_id, reveal.member_id))

    def for_case(self, officer_id: str, case: str) -> list[RevealRecord]:
        return [_record(row) for row in self._db.all(
            f"{_SELECT} WHERE r.officer_num = (SELECT num FROM members WHERE id = ?)"
            " AND r.case_ref = ? ORDER BY r.revealed_at, r.rowid", (officer_id, case))]

    def latest(self, *, limit: int, offset: int = 0) -> list[RevealRecord]:
        return [_record(row) for row in self._db.all(
            f"{_SELECT} ORDER BY r.revealed_at DESC, r.rowid DESC LIMIT ? OFFSET ?",
            (limit, offset))]

    def count(self) -> int:
        return int(self._db.one("SELECT count(*) FROM identity_reveals")[0])

    def member_ids(self, *, granted_to: str | None = None) -> Iterator[str]:
        rows = (self._db.all("SELECT id FROM members ORDER BY num") if granted_to is None else
                self._db.all("SELECT DISTINCT member_id AS id FROM grants WHERE brand_id = ?",
                             (granted_to,)))
        for row in rows:
            yield row["id"]
