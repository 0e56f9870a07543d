"""Pairwise subjects handed out in SQLCipher:
:class:`brand_gateway.repositories.PairwiseSubjectRepository`.

``pairwise_subjects`` cascades on ``members(id)`` and ``brands(id)``: an erasure deletes a
member's rows, so their pseudonyms stop resolving. ``INSERT OR IGNORE`` makes recording
idempotent; a missing member or brand breaks a foreign key, returned as ``False``.
"""

from __future__ import annotations

from vault.errors import ConstraintViolationError
from vault.sqlcipher import SqlcipherRepository


class SqlcipherPairwiseSubjects(SqlcipherRepository):
    def is_recorded(self, brand_id: str, pairwise_id: str) -> bool:
        return self._db.one(
            "SELECT 1 FROM pairwise_subjects WHERE brand_id = ? AND pairwise_id = ?",
            (brand_id, pairwise_id)) is not None

    def record(self, brand_id: str, pairwise_id: str, member_id: str) -> bool:
        try:
            with self._db.transaction():
                self._db.execute(
                    "INSERT OR IGNORE INTO pairwise_subjects (brand_id, pairwise_id, member_id)"
                    " VALUES (?, ?, ?)", (brand_id, pairwise_id, member_id))
        except ConstraintViolationError:
            return False
        return True

    def member_for(self, brand_id: str, pairwise_id: str) -> str | None:
        row = self._db.one(
            "SELECT member_id FROM pairwise_subjects WHERE brand_id = ? AND pairwise_id = ?",
            (brand_id, pairwise_id))
        return None if row is None else str(row["member_id"])
