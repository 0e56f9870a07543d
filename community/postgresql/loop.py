""""You said, we did" posts in PostgreSQL: :class:`community.repositories.WeDidRepository`.

Posts are shared (a brand's, read by every member's page). Which members took part is decided
here, in SQL over their own rows, each found by the member's id (one member's rows: one shard
under Citus): a touchpoint post reaches a member who has a feedback entry about that brand at
that touchpoint; a survey post, one who answered it (an answer withdrawn is a deleted row); an
idea post, its author and the members who voted for it. The rows a release is computed from
follow the counting rule of the insight community (an active grant to the brand for the
purpose, started and not ended, covering the field; either mode), each entry or answer with
its own member's grants (joined on ``member_id``).
"""

from __future__ import annotations

from typing import Any

from vault.postgresql import PostgresqlRepository

from ..repositories import RatingRow, SurveyValueRow, WeDidRow

_COLUMNS = ("SELECT id, brand_id, subject_kind, subject_ref, said, did, changed_on, release,"
            " posted_at, withdrawn_at FROM wedid_posts")
# The grant fields that cover the feedback journal: the field, or its whole category.
_COVERS_FEEDBACK = "('feedback', 'category:feedback')"
_COVERS_SURVEY = "('survey', 'category:survey')"


def _post(row: Any) -> WeDidRow:
    return WeDidRow(*(row[i] for i in range(10)))


def _counts(member: str, brand: str, covers: str) -> str:
    """The condition that the member whose id is the column ``member`` counts for the brand in
    the column ``brand``, a purpose and a window (the next three parameters: purpose, now, now)
    and a field (``covers``): the counting rule, over the member's own grants."""
    return (f"EXISTS (SELECT 1 FROM grants AS g WHERE g.member_id = {member}"
            f" AND g.brand_id = {brand} AND g.purpose = ? AND g.status = 'active'"
            " AND g.starts_at <= ? AND g.ends_at > ? AND EXISTS (SELECT 1 FROM"
            " json_array_elements_text(g.fields::json) AS j (field)"
            f" WHERE j.field IN {covers}))")


class PostgresqlWeDid(PostgresqlRepository):
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
            f"{_COLUMNS} AS p WHERE withdrawn_at IS NULL AND ("
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

    def subject_brand(self, subject_kind: str, subject_ref: str) -> str | None:
        if subject_kind == "survey":
            row = self._db.one("SELECT brand_id FROM surveys WHERE id = ?", (subject_ref,))
        elif subject_kind == "idea":
            row = self._db.one(
                "SELECT c.brand_id FROM ideas AS i JOIN communities AS c ON c.id = i.community_id"
                " WHERE i.id = ?", (subject_ref,))
        else:
            return None
        return None if row is None else str(row[0])

    def survey_questions(self, survey_id: str) -> list[tuple[int, str, str]]:
        return [(row[0], row[1], row[2]) for row in self._db.all(
            "SELECT position, kind, prompt FROM survey_questions WHERE survey_id = ?"
            " AND kind IN ('rating', 'nps') ORDER BY position", (survey_id,))]

    def survey_values(self, survey_id: str, purpose: str, now: int) -> list[SurveyValueRow]:
        return [(int(row[0]), row[1], row[2]) for row in self._db.all(
            "SELECT a.member_num, a.position, a.value"
            " FROM survey_answers AS a"
            " JOIN survey_questions AS q ON q.survey_id = a.survey_id AND q.position = a.position"
            " JOIN surveys AS s ON s.id = a.survey_id"
            " WHERE a.survey_id = ? AND q.kind IN ('rating', 'nps') AND a.value IS NOT NULL"
            f" AND {_counts('a.member_id', 's.brand_id', _COVERS_SURVEY)}"
            " ORDER BY a.answered_at, a.member_num, a.position", (survey_id, purpose, now, now))]

    def idea_votes(self, idea_id: str) -> int:
        return int(self._db.one("SELECT count(*) FROM idea_votes WHERE idea_id = ?",
                                (idea_id,))[0])

    def touchpoint_ratings(self, brand_id: str, touchpoint: str, purpose: str,
                           now: int) -> list[RatingRow]:
        return [(int(row[0]), row[1], row[2], row[3]) for row in self._db.all(
            "SELECT f.member_num, f.occurred_on, f.rating, f.nps"
            " FROM feedback AS f WHERE f.brand_id = ? AND f.touchpoint = ?"
            f" AND {_counts('f.member_id', 'f.brand_id', _COVERS_FEEDBACK)}"
            " ORDER BY f.occurred_on, f.id", (brand_id, touchpoint, purpose, now, now))]
