"""Pairwise subjects handed out in SQLCipher:
:class:`brand_gateway.repositories.PairwiseSubjectRepository` (what both engines share is
:class:`brand_gateway.sql.pseudonyms.SqlPairwiseSubjects`).

``pairwise_subjects`` cascades on ``members(id)`` and ``brands(id)``: an erasure deletes a
member's rows, so their pseudonyms stop resolving. ``INSERT OR IGNORE`` makes recording
idempotent; a missing member or brand breaks a foreign key, returned as ``False``.
"""

from __future__ import annotations

from vault.errors import ConstraintViolationError

from ..sql.pseudonyms import SqlPairwiseSubjects


class SqlcipherPairwiseSubjects(SqlPairwiseSubjects):
    def record(self, brand_id: str, pairwise_id: str, member_id: str) -> bool:
        try:
            with self._db.transaction():
                self._db.execute(
                    "INSERT OR IGNORE INTO pairwise_subjects (brand_id, pairwise_id, member_id)"
                    " VALUES (?, ?, ?)", (brand_id, pairwise_id, member_id))
        except ConstraintViolationError:
            return False
        return True
