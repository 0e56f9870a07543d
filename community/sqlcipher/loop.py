""""You said, we did" posts in SQLCipher: :class:`community.repositories.WeDidRepository`
(what both engines share is :class:`community.sql.loop.SqlWeDid`).

A member's rows are found by their integer key (``members.num``); the grant fields an entry
or answer counts under are read with ``json_each``.
"""

from __future__ import annotations

from ..repositories import RatingRow, SurveyValueRow, WeDidRow
from ..sql.loop import COVERS_FEEDBACK, COVERS_SURVEY, POSTS, SqlWeDid, wedid_post


class SqlcipherWeDid(SqlWeDid):
    def for_member(self, member_id: str) -> list[WeDidRow]:
        return [wedid_post(row) for row in self._db.all(
            f"WITH me AS (SELECT num FROM members WHERE id = ?) {POSTS} p"
            " WHERE withdrawn_at IS NULL AND ("
            " (subject_kind = 'touchpoint' AND EXISTS (SELECT 1 FROM feedback f"
            "  WHERE f.member_num = (SELECT num FROM me) AND f.brand_id = p.brand_id"
            "  AND f.touchpoint = p.subject_ref))"
            " OR (subject_kind = 'survey' AND EXISTS (SELECT 1 FROM survey_answers a"
            "  WHERE a.survey_id = p.subject_ref AND a.member_num = (SELECT num FROM me)))"
            " OR (subject_kind = 'idea' AND (EXISTS (SELECT 1 FROM ideas i"
            "  WHERE i.id = p.subject_ref AND i.member_num = (SELECT num FROM me))"
            "  OR EXISTS (SELECT 1 FROM idea_votes v WHERE v.idea_id = p.subject_ref"
            "  AND v.member_num = (SELECT num FROM me)))))"
            " ORDER BY posted_at DESC, id", (member_id,))]

    def survey_values(self, survey_id: str, purpose: str, now: int) -> list[SurveyValueRow]:
        return [(row[0], row[1], row[2]) for row in self._db.all(
            "SELECT a.member_num, a.position, a.value FROM survey_answers a"
            " JOIN survey_questions q ON q.survey_id = a.survey_id AND q.position = a.position"
            " JOIN surveys s ON s.id = a.survey_id JOIN members m ON m.num = a.member_num"
            " WHERE a.survey_id = ? AND q.kind IN ('rating', 'nps') AND a.value IS NOT NULL"
            " AND EXISTS (SELECT 1 FROM grants g, json_each(g.fields) j WHERE g.member_id = m.id"
            "  AND g.brand_id = s.brand_id AND g.purpose = ? AND g.status = 'active'"
            f"  AND g.starts_at <= ? AND g.ends_at > ? AND j.value IN {COVERS_SURVEY})"
            " ORDER BY a.answered_at, a.member_num, a.position", (survey_id, purpose, now, now))]

    def touchpoint_ratings(self, brand_id: str, touchpoint: str, purpose: str,
                           now: int) -> list[RatingRow]:
        return [(row[0], row[1], row[2], row[3]) for row in self._db.all(
            "SELECT f.member_num, f.occurred_on, f.rating, f.nps FROM feedback f"
            " JOIN members m ON m.num = f.member_num"
            " WHERE f.brand_id = ? AND f.touchpoint = ? AND EXISTS ("
            "  SELECT 1 FROM grants g, json_each(g.fields) j WHERE g.member_id = m.id"
            "  AND g.brand_id = f.brand_id AND g.purpose = ? AND g.status = 'active'"
            f"  AND g.starts_at <= ? AND g.ends_at > ? AND j.value IN {COVERS_FEEDBACK})"
            " ORDER BY f.occurred_on, f.id", (brand_id, touchpoint, purpose, now, now))]
