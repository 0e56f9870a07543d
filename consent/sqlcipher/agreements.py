"""IEEE 7012 agreements in SQLCipher: :class:`consent.repositories.AgreementRepository`."""

from __future__ import annotations

from typing import Any

from vault.sqlcipher import SqlcipherRepository

from ..model import AgreementRecord, AgreementStatus


def _record(row: Any) -> AgreementRecord:
    return AgreementRecord(row["id"], row["member_id"], row["brand_id"], row["proffered"],
                           row["countered"], AgreementStatus(row["status"]), row["agreed"],
                           row["record"], row["record_hash"], row["signature"],
                           row["created_at"], row["updated_at"])


class SqlcipherAgreements(SqlcipherRepository):
    def insert(self, agreement_id: str, member_id: str, brand_id: str, proffered: str,
               now: int) -> None:
        self._db.execute(
            "INSERT INTO agreements (id, member_id, brand_id, proffered, status,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, 'proffered', ?, ?)",
            (agreement_id, member_id, brand_id, proffered, now, now))

    def get(self, agreement_id: str) -> AgreementRecord | None:
        row = self._db.one("SELECT * FROM agreements WHERE id = ?", (agreement_id,))
        return None if row is None else _record(row)

    def open_offer(self, member_id: str, brand_id: str) -> AgreementRecord | None:
        row = self._db.one(
            "SELECT * FROM agreements WHERE member_id = ? AND brand_id = ?"
            " AND status IN ('proffered', 'countered')", (member_id, brand_id))
        return None if row is None else _record(row)

    def in_force(self, member_id: str, brand_id: str) -> AgreementRecord | None:
        row = self._db.one(
            "SELECT * FROM agreements WHERE member_id = ? AND brand_id = ? AND status = 'agreed'"
            " ORDER BY updated_at DESC, rowid DESC LIMIT 1", (member_id, brand_id))
        return None if row is None else _record(row)

    def for_member(self, member_id: str) -> list[AgreementRecord]:
        return [_record(row) for row in self._db.all(
            "SELECT * FROM agreements WHERE member_id = ? ORDER BY updated_at DESC",
            (member_id,))]

    def for_brand(self, brand_id: str, *, status: AgreementStatus | None, limit: int,
                  offset: int) -> list[AgreementRecord]:
        if status is None:
            rows = self._db.all("SELECT * FROM agreements WHERE brand_id = ?"
                                " ORDER BY updated_at DESC, id LIMIT ? OFFSET ?",
                                (brand_id, limit, offset))
        else:
            rows = self._db.all("SELECT * FROM agreements WHERE brand_id = ? AND status = ?"
                                " ORDER BY updated_at DESC, id LIMIT ? OFFSET ?",
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
