"""IEEE 7012 agreements, what both engines share:
:class:`consent.repositories.AgreementRepository`.

An agreement is offered (``proffered``), perhaps ``countered``, then ``agreed``, ``rejected``
or ``withdrawn``, each by one ``UPDATE`` of its row. Inside a write transaction
:meth:`SqlAgreements.get` and :meth:`SqlAgreements.open_offer` take the member's lock where the
engine needs it: an answer checks an offer's state and changes it while no other answer can,
and two offers to one brand at once see each other. "Written last" among agreements of one
second is by ``rowid``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..model import AgreementRecord, AgreementStatus, AgreementVia
from . import SqlConsentRepository

AGREEMENTS = ("SELECT id, member_id, brand_id, proffered, countered, status, agreed, record,"
              " record_hash, signature, created_at, updated_at, via FROM agreements")


def agreement(row: Any) -> AgreementRecord:
    """An :class:`AgreementRecord` from a row of :data:`AGREEMENTS`."""
    return AgreementRecord(row["id"], row["member_id"], row["brand_id"], row["proffered"],
                           row["countered"], AgreementStatus(row["status"]), row["agreed"],
                           row["record"], row["record_hash"], row["signature"],
                           row["created_at"], row["updated_at"], AgreementVia(row["via"]))


class SqlAgreements(SqlConsentRepository):
    # What orders ids by their bytes: nothing on SQLite (its default collation), ' COLLATE "C"'
    # on PostgreSQL.
    _BYTEWISE: ClassVar[str]

    def insert(self, agreement_id: str, member_id: str, brand_id: str, proffered: str,
               now: int, *, via: AgreementVia) -> None:
        self._db.execute(
            "INSERT INTO agreements (id, member_id, brand_id, proffered, status,"
            " created_at, updated_at, via) VALUES (?, ?, ?, ?, 'proffered', ?, ?, ?)",
            (agreement_id, member_id, brand_id, proffered, now, now, via.value))

    def get(self, agreement_id: str) -> AgreementRecord | None:
        if not self._lock_owner("agreements", agreement_id):
            return None
        row = self._db.one(f"{AGREEMENTS} WHERE id = ?{self._locking()}", (agreement_id,))
        return None if row is None else agreement(row)

    def open_offer(self, member_id: str, brand_id: str) -> AgreementRecord | None:
        self._lock_member(member_id)
        row = self._db.one(
            f"{AGREEMENTS} WHERE member_id = ? AND brand_id = ?"
            f" AND status IN ('proffered', 'countered'){self._locking()}",
            (member_id, brand_id))
        return None if row is None else agreement(row)

    def in_force(self, member_id: str, brand_id: str) -> AgreementRecord | None:
        row = self._db.one(
            f"{AGREEMENTS} WHERE member_id = ? AND brand_id = ? AND status = 'agreed'"
            " ORDER BY updated_at DESC, rowid DESC LIMIT 1", (member_id, brand_id))
        return None if row is None else agreement(row)

    def for_brand(self, brand_id: str, *, status: AgreementStatus | None, limit: int,
                  offset: int) -> list[AgreementRecord]:
        order = f" ORDER BY updated_at DESC, id{self._BYTEWISE} LIMIT ? OFFSET ?"
        offered = f"{AGREEMENTS} WHERE brand_id = ? AND via = 'member'"
        if status is None:
            rows = self._db.all(f"{offered}{order}", (brand_id, limit, offset))
        else:
            rows = self._db.all(f"{offered} AND status = ?{order}",
                                (brand_id, status.value, limit, offset))
        return [agreement(row) for row in rows]

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
