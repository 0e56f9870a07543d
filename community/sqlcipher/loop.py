""""You said, we did" posts in SQLCipher: :class:`community.repositories.WeDidRepository`.

Which members took part is decided here, in SQL over their own rows: a touchpoint post reaches
a member who has a feedback entry about that brand at that touchpoint; a survey post, one who
answered it (an answer withdrawn is a deleted row: they no longer took part); an idea post,
its author and the members who voted for it. The rows a release is
computed from follow the counting rule of the insight community (an active grant to the
brand for the purpose, started and not ended, covering the feedback journal; either mode).
"""

from __future__ import annotations

from typing import Any

from vault.sqlcipher import SqlcipherRepository

from ..repositories import RatingRow, SurveyValueRow, WeDidRow

_COLUMNS = ("SELECT id, brand_id, subject_kind, subject_ref, said, did, changed_on, release,"
            " posted_at, withdrawn_at FROM wedid_posts")
# The grant fields that cover the feedback journal: the field, or its whole category.
_COVERS_FEEDBACK = "('feedback', 'category:feedback')"
_COVERS_SURVEY = "('survey', 'category:survey')"


def _post(row: Any) -> WeDidRow:
    return WeDidRow(*(row[i] for i in range(10)))


class SqlcipherWeDid(SqlcipherRepository):
    def insert(self, post: WeDidRow) -> None:
        self._db.execute(
            "INSERT INTO wedid_posts (id, brand_id, subject_kind, subject_ref, said, did,"
            " changed_on, release, posted_at, withdrawn_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?)", (post.id, post.brand_id, post.subject_kind, post.subject_ref, post.said,
                    post.did, post.changed_on, post.release, post.posted_at,
                    post.withdrawn_at))

    def get(self, post_id: str) -> WeDidRow | None:
        row = self._db.one(f"{_COLUMNS} WHERE id = ?", (post_id,))
        return None if row is None else _post(row)

    def for_brand(self, brand_id: str, *, withdrawn: bool, limit: int,
                  offset: int) -> list[WeDidRow]:
        live = "" if withdrawn else " AND withdrawn_at IS NULL"
        return [_post(row) for row in self._db.all(
            f"{_COLUMNS} WHERE brand_id = ?{live} ORDER BY posted_at DESC, id LIMIT ? OFFSET ?",
            (brand_id, limit, offset))]

    def withdraw(self, post_id: str, brand_id: str, now: int) -> bool:
        return bool(self._db.execute(
            "UPDATE wedid_posts SET withdrawn_at = ? WHERE id = ? AND brand_id = ?"
            " AND withdrawn_at IS NULL", (now, post_id, brand_id)).rowcount)

    def for_member(self, member_id: str) -> list[WeDidRow]:
        return [_post(row) for row in self._db.all(
            f"WITH me AS (SELECT num FROM members WHERE id = ?) {_COLUMNS} p"
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

    def subject_brand(self, subject_kind: str, subject_ref: str) -> str | None:
        if subject_kind == "survey":
            row = self._db.one("SELECT brand_id FROM surveys WHERE id = ?", (subject_ref,))
        elif subject_kind == "idea":
            row = self._db.one(
                "SELECT c.brand_id FROM ideas i JOIN communities c ON c.id = i.community_id"
                " WHERE i.id = ?", (subject_ref,))
        else:
            return None
        return None if row is None else str(row[0])

    def survey_questions(self, survey_id: str) -> list[tuple[int, str, str]]:
        return [(row[0], row[1], row[2]) for row in self._db.all(
            "SELECT position, kind, prompt FROM survey_questions WHERE survey_id = ?"
            " AND kind IN ('rating', 'nps') ORDER BY position", (survey_id,))]

    def survey_values(self, survey_id: str, purpose: str, now: int) -> list[SurveyValueRow]:
        return [(row[0], row[1], row[2]) for row in self._db.all(
            "SELECT a.member_num, a.position, a.value FROM survey_answers a"
            " JOIN survey_questions q ON q.survey_id = a.survey_id AND q.position = a.position"
            " JOIN surveys s ON s.id = a.survey_id JOIN members m ON m.num = a.member_num"
            " WHERE a.survey_id = ? AND q.kind IN ('rating', 'nps') AND a.value IS NOT NULL"
            " AND EXISTS (SELECT 1 FROM grants g, json_each(g.fields) j WHERE g.member_id = m.id"
            "  AND g.brand_id = s.brand_id AND g.purpose = ? AND g.status = 'active'"
            f"  AND g.starts_at <= ? AND g.ends_at > ? AND j.value IN {_COVERS_SURVEY})"
            " ORDER BY a.answered_at, a.member_num, a.position", (survey_id, purpose, now, now))]

    def idea_votes(self, idea_id: str) -> int:
        return int(self._db.one("SELECT count(*) FROM idea_votes WHERE idea_id = ?",
                                (idea_id,))[0])

    def touchpoint_ratings(self, brand_id: str, touchpoint: str, purpose: str,
                           now: int) -> list[RatingRow]:
        return [(row[0], row[1], row[2], row[3]) for row in self._db.all(
            "SELECT f.member_num, f.occurred_on, f.rating, f.nps FROM feedback f"
            " JOIN members m ON m.num = f.member_num"
            " WHERE f.brand_id = ? AND f.touchpoint = ? AND EXISTS ("
            "  SELECT 1 FROM grants g, json_each(g.fields) j WHERE g.member_id = m.id"
            "  AND g.brand_id = f.brand_id AND g.purpose = ? AND g.status = 'active'"
            f"  AND g.starts_at <= ? AND g.ends_at > ? AND j.value IN {_COVERS_FEEDBACK})"
            " ORDER BY f.occurred_on, f.id", (brand_id, touchpoint, purpose, now, now))]
