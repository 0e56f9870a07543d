""""You said, we did" posts in PostgreSQL: :class:`community.repositories.WeDidRepository`
(what both engines share is :class:`community.sql.loop.SqlWeDid`).

A member's rows are each found by the member's id (one member's rows: one shard under Citus),
and each entry or answer is counted with its own member's grants (joined on ``member_id``),
whose fields are read with ``json_array_elements_text``.
"""

from __future__ import annotations

from ..repositories import RatingRow, SurveyValueRow, WeDidRow
from ..sql.loop import COVERS_FEEDBACK, COVERS_SURVEY, POSTS, SqlWeDid, wedid_post


def _counts(member: str, brand: str, covers: str) -> str:
    """The condition that the member whose id is the column ``member`` counts for the brand in
    the column ``brand``, a purpose and a window (the next three parameters: purpose, now, now)
    and a field (``covers``): the counting rule, over the member's own grants."""
    return (f"EXISTS (SELECT 1 FROM grants AS g WHERE g.member_id = {member}"
            f" AND g.brand_id = {brand} AND g.purpose = ? AND g.status = 'active'"
            " AND g.starts_at <= ? AND g.ends_at > ? AND EXISTS (SELECT 1 FROM"
            " json_array_elements_text(g.fields::json) AS j (field)"
            f" WHERE j.field IN {covers}))")


class PostgresqlWeDid(SqlWeDid):
    def for_member(self, member_id: str) -> list[WeDidRow]:
        return [wedid_post(row) for row in self._db.all(
            f"{POSTS} AS p WHERE withdrawn_at IS NULL AND ("
            " (subject_kind = 'touchpoint' AND EXISTS (SELECT 1 FROM feedback AS f"
            "  WHERE f.member_id = ? AND f.brand_id = p.brand_id"
            "  AND f.touchpoint = p.subject_ref))"
            " OR (subject_kind = 'survey' AND EXISTS (SELECT 1 FROM survey_answers AS a"
            "  WHERE a.member_id = ? AND a.survey_id = p.subject_ref))"
            " OR (subject_kind = 'idea' AND (EXISTS (SELECT 1 FROM ideas AS i"
            "  WHERE i.member_id = ? AND i.id = p.subject_ref)"
            "  OR EXISTS (SELECT 1 FROM idea_votes AS v WHERE v.member_id = ?"
            "  AND v.idea_id = p.subject_ref))))"
            " ORDER BY posted_at DESC, id", (member_id,) * 4)]

    def survey_values(self, survey_id: str, purpose: str, now: int) -> list[SurveyValueRow]:
        return [(int(row[0]), row[1], row[2]) for row in self._db.all(
            "SELECT a.member_num, a.position, a.value"
            " FROM survey_answers AS a"
            " JOIN survey_questions AS q ON q.survey_id = a.survey_id AND q.position = a.position"
            " JOIN surveys AS s ON s.id = a.survey_id"
            " WHERE a.survey_id = ? AND q.kind IN ('rating', 'nps') AND a.value IS NOT NULL"
            f" AND {_counts('a.member_id', 's.brand_id', COVERS_SURVEY)}"
            " ORDER BY a.answered_at, a.member_num, a.position", (survey_id, purpose, now, now))]

    def touchpoint_ratings(self, brand_id: str, touchpoint: str, purpose: str,
                           now: int) -> list[RatingRow]:
        return [(int(row[0]), row[1], row[2], row[3]) for row in self._db.all(
            "SELECT f.member_num, f.occurred_on, f.rating, f.nps"
            " FROM feedback AS f WHERE f.brand_id = ? AND f.touchpoint = ?"
            f" AND {_counts('f.member_id', 'f.brand_id', COVERS_FEEDBACK)}"
            " ORDER BY f.occurred_on, f.id", (brand_id, touchpoint, purpose, now, now))]
