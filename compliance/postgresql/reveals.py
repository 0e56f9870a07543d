"""Reveals in PostgreSQL: :class:`compliance.repositories.RevealRepository` (what both engines
share is :class:`compliance.sql.reveals.SqlReveals`).

A reveal is the revealed member's row (member-owned: ``member_id`` first in its key, gone with
the member). Its officer is another account, on another shard under Citus: the row keeps the
officer's ``officer_num`` only, and the officer's public id is read back by a lookup of
``members`` of its own, never by a join of two member-owned tables on anything but the member
(SQLCipher joins ``members`` twice): a ``num`` names one account for ever, so the lookup, made
after the reveals were read, finds the officer or finds them gone. The officer's erasure
deletes the reveals they made (the data store's erasure; on SQLite a foreign key's ``ON
DELETE CASCADE``).

Where SQLCipher takes the store's write lock, :meth:`PostgresqlReveals.insert` takes a key
share lock on the officer's account (what a foreign key's check takes) while it reads its
``num``, so the officer cannot be erased between that read and the insert. Reveals made at the
same second come in the order they were written in (``rowid``), as on SQLite.
"""

from __future__ import annotations

from ..repositories import RevealRecord
from ..sql.reveals import SqlReveals, reveal_record

_COLUMNS = ("SELECT id, officer_num, case_ref, member_id, principal, reason_sealed,"
            " reason_sha256, revealed_at FROM identity_reveals")


class PostgresqlReveals(SqlReveals):
    def insert(self, reveal: RevealRecord) -> None:
        officer = self._db.one("SELECT num FROM members WHERE id = ? FOR KEY SHARE",
                               (reveal.officer_id,))
        if officer is None:
            return          # as SQLCipher's INSERT ... SELECT: no officer, no row
        self._db.execute(
            "INSERT INTO identity_reveals (member_id, id, officer_num, case_ref, member_num,"
            " principal, reason_sealed, reason_sha256, revealed_at)"
            " SELECT m.id, ?, ?, ?, m.num, ?, ?, ?, ? FROM members AS m WHERE m.id = ?",
            (reveal.id, officer[0], reveal.case, reveal.principal, reveal.reason_sealed,
             reveal.reason_sha256, reveal.revealed_at, reveal.member_id))

    def for_case(self, officer_id: str, case: str) -> list[RevealRecord]:
        return [reveal_record(row, officer_id) for row in self._db.all(
            f"{_COLUMNS} WHERE officer_num = (SELECT num FROM members WHERE id = ?)"
            " AND case_ref = ? ORDER BY revealed_at, rowid", (officer_id, case))]

    def latest(self, *, limit: int, offset: int = 0) -> list[RevealRecord]:
        rows = self._db.all(f"{_COLUMNS} ORDER BY revealed_at DESC, rowid DESC LIMIT ? OFFSET ?",
                            (limit, offset))
        officers = self._ids({row["officer_num"] for row in rows})
        return [reveal_record(row, officers[row["officer_num"]]) for row in rows
                if row["officer_num"] in officers]

    def _ids(self, nums: set[int]) -> dict[int, str]:
        """The public ids of the accounts numbered ``nums`` (those that still exist)."""
        if not nums:
            return {}
        marks = ", ".join("?" * len(nums))
        return {int(row[0]): row[1] for row in self._db.all(
            f"SELECT num, id FROM members WHERE num IN ({marks})", tuple(nums))}
