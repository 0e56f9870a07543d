"""Pairwise subjects handed out in PostgreSQL:
:class:`brand_gateway.repositories.PairwiseSubjectRepository` (what both engines share is
:class:`brand_gateway.sql.pseudonyms.SqlPairwiseSubjects`).

A row is its member's (keyed by ``(member_id, brand_id)``: one pseudonym per member and
brand) and cascades on ``members(id)``: an erasure deletes a member's rows, so their
pseudonyms stop resolving. A pseudonym is an HMAC of the member and the brand
(brand_gateway/pseudonyms.py), unique by construction: ``(brand_id, pairwise_id)`` is found by a
plain index, not held unique by a constraint that would span members.

Recording is idempotent (``ON CONFLICT DO NOTHING``, where SQLCipher has ``INSERT OR
IGNORE``). It inserts only for a member and a brand that exist (``INSERT ... SELECT``), so the
usual refusal, ``False``, breaks no constraint and leaves a caller's transaction usable (a
failed statement aborts a PostgreSQL transaction); a member deleted at that very moment still
breaks the foreign key, which is a refusal too.
"""

from __future__ import annotations

from vault.errors import ConstraintViolationError

from ..sql.pseudonyms import SqlPairwiseSubjects


class PostgresqlPairwiseSubjects(SqlPairwiseSubjects):
    def record(self, brand_id: str, pairwise_id: str, member_id: str) -> bool:
        try:
            with self._db.transaction():
                row = self._db.one(
                    "WITH added AS (INSERT INTO pairwise_subjects (member_id, brand_id,"
                    " pairwise_id) SELECT m.id, b.id, ? FROM members AS m, brands AS b"
                    " WHERE m.id = ? AND b.id = ? ON CONFLICT DO NOTHING RETURNING 1)"
                    " SELECT EXISTS (SELECT 1 FROM added)"
                    " OR (EXISTS (SELECT 1 FROM members WHERE id = ?)"
                    " AND EXISTS (SELECT 1 FROM brands WHERE id = ?))",
                    (pairwise_id, member_id, brand_id, member_id, brand_id))
        except ConstraintViolationError:
            return False
        return bool(row[0])
