"""Pairwise subjects handed out, what both engines share:
:class:`brand_gateway.repositories.PairwiseSubjectRepository`.

``pairwise_subjects`` cascades on ``members(id)``: an erasure deletes a member's rows, so their
pseudonyms stop resolving. Recording is idempotent; a missing member or brand is refused
(``False``).
"""

from __future__ import annotations

from vault.sql import SqlRepository


class SqlPairwiseSubjects(SqlRepository):
    def is_recorded(self, brand_id: str, pairwise_id: str) -> bool:
        return self._db.one(
            "SELECT 1 FROM pairwise_subjects WHERE brand_id = ? AND pairwise_id = ?",
            (brand_id, pairwise_id)) is not None

    def member_for(self, brand_id: str, pairwise_id: str) -> str | None:
        row = self._db.one(
            "SELECT member_id FROM pairwise_subjects WHERE brand_id = ? AND pairwise_id = ?",
            (brand_id, pairwise_id))
        return None if row is None else str(row["member_id"])
