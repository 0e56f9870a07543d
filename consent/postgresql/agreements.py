"""IEEE 7012 agreements in PostgreSQL: :class:`consent.repositories.AgreementRepository`.

An agreement is its member's (keyed by ``(member_id, id)``); an id is random, unique by
construction, and found by a plain index where the caller names no member. Inside a write
transaction, :meth:`get` and :meth:`open_offer` take the member's lock and lock what they read
(:mod:`consent.postgresql`): an answer checks an offer's state and changes it while no other
answer can, and two offers to one brand at once see each other, as under SQLCipher's write
lock. "Written last" among agreements of one second is by ``rowid``, as on SQLite (a column
here).
"""

from __future__ import annotations

from typing import Any

from vault.postgresql import PostgresqlRepository

from ..model import AgreementRecord, AgreementStatus
from . import lock_member, locking

_SELECT = ("SELECT id, member_id, brand_id, proffered, countered, status, agreed, record,"
           " record_hash, signature, created_at, updated_at FROM agreements")


def _record(row: Any) -> AgreementRecord:
    return AgreementRecord(row["id"], row["member_id"], row["brand_id"], row["proffered"],
                           row["countered"], AgreementStatus(row["status"]), row["agreed"],
                           row["record"], row["record_hash"], row["signature"],
                           row["created_at"], row["updated_at"])


class PostgresqlAgreements(PostgresqlRepository):
    def insert(self, agreement_id: str, member_id: str, brand_id: str, proffered: str,
               now: int) -> None:
        self._db.execute(
            "INSERT INTO agreements (member_id, id, brand_id, proffered, status,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, 'proffered', ?, ?)",
            (member_id, agreement_id, brand_id, proffered, now, now))

    def get(self, agreement_id: str) -> AgreementRecord | None:
        if self._db.in_transaction:
            owner = self._db.one("SELECT member_id FROM agreements WHERE id = ?",
                                 (agreement_id,))
            if owner is None:
                return None
            lock_member(self._db, owner[0])
        row = self._db.one(f"{_SELECT} WHERE id = ?{locking(self._db)}", (agreement_id,))
        return None if row is None else _record(row)

    def open_offer(self, member_id: str, brand_id: str) -> AgreementRecord | None:
        lock_member(self._db, member_id)
        row = self._db.one(
            f"{_SELECT} WHERE member_id = ? AND brand_id = ?"
            f" AND status IN ('proffered', 'countered'){locking(self._db)}",
            (member_id, brand_id))
        return None if row is None else _record(row)

    def in_force(self, member_id: str, brand_id: str) -> AgreementRecord | None:
        row = self._db.one(
            f"{_SELECT} WHERE member_id = ? AND brand_id = ? AND status = 'agreed'"
            f" ORDER BY updated_at DESC, rowid DESC LIMIT 1",
            (member_id, brand_id))
        return None if row is None else _record(row)

    def for_member(self, member_id: str) -> list[AgreementRecord]:
        return [_record(row) for row in self._db.all(
            f'{_SELECT} WHERE member_id = ? ORDER BY updated_at DESC, id COLLATE "C"',
            (member_id,))]

    def for_brand(self, brand_id: str, *, status: AgreementStatus | None, limit: int,
                  offset: int) -> list[AgreementRecord]:
        if status is None:
            rows = self._db.all(f"{_SELECT} WHERE brand_id = ?"
                                ' ORDER BY updated_at DESC, id COLLATE "C" LIMIT ? OFFSET ?',
                                (brand_id, limit, offset))
        else:
            rows = self._db.all(f"{_SELECT} WHERE brand_id = ? AND status = ?"
                                ' ORDER BY updated_at DESC, id COLLATE "C" LIMIT ? OFFSET ?',
                                (brand_id, status.value, limit, offset))
        return [_record(row) for row in rows]

    def counter(self, agreement_id: str, term: str, now: int) -> None:
        self._db.execute("UPDATE agreements SET status = 'countered', countered = ?,"
                         " updated_at = ? WHERE id = ?", (term, now, agreement_id))

    def reject(self, agreement_id: str, now: int) -> None:
        self._db.execute("UPDATE agreements SET status = 'rejected', updated_at = ?"
                         " WHERE id = ?", (now, agreement_id))

    def withdraw(self, agreement_id: str, now: int) -> None:
        self._db.execute("UPDATE agreements SET status = 'withdrawn', updated_at = ?"
                         " WHERE id = ?", (now, agreement_id))

    def agree(self, agreement_id: str, *, term: str, record: str, record_hash: str,
              signature: str, now: int) -> None:
        self._db.execute(
            "UPDATE agreements SET status = 'agreed', agreed = ?, record = ?,"
            " record_hash = ?, signature = ?, updated_at = ? WHERE id = ?",
            (term, record, record_hash, signature, now, agreement_id))
