""""You said, we did" posts, what both engines share:
:class:`community.repositories.WeDidRepository`.

Posts are shared (a brand's, read by every member's page). Which members took part is decided
by each engine in SQL over the members' own rows: a touchpoint post reaches a member who has a
feedback entry about that brand at that touchpoint; a survey post, one who answered it (an
answer withdrawn is a deleted row: they no longer took part); an idea post, its author and the
members who voted for it. The rows a release is computed from follow the counting rule of the
insight community (an active grant to the brand for the purpose, started and not ended,
covering the field; either mode).
"""

from __future__ import annotations

from typing import Any

from vault.sql import SqlRepository

from ..repositories import WeDidRow

POSTS = ("SELECT id, brand_id, subject_kind, subject_ref, said, did, changed_on, release,"
         " posted_at, withdrawn_at FROM wedid_posts")
# The grant fields that cover the feedback journal, and a survey's answers: the field, or its
# whole category.
COVERS_FEEDBACK = "('feedback', 'category:feedback')"
COVERS_SURVEY = "('survey', 'category:survey')"


def wedid_post(row: Any) -> WeDidRow:
    """A row of :data:`POSTS` as a :class:`WeDidRow`."""
    return WeDidRow(*(row[i] for i in range(10)))


class SqlWeDid(SqlRepository):
    def insert(self, post: WeDidRow) -> None:
        self._db.execute(
            "INSERT INTO wedid_posts (id, brand_id, subject_kind, subject_ref, said, did,"
            " changed_on, release, posted_at, withdrawn_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?)", (post.id, post.brand_id, post.subject_kind, post.subject_ref, post.said,
                    post.did, post.changed_on, post.release, post.posted_at,
                    post.withdrawn_at))

    def get(self, post_id: str) -> WeDidRow | None:
        row = self._db.one(f"{POSTS} WHERE id = ?", (post_id,))
        return None if row is None else wedid_post(row)

    def for_brand(self, brand_id: str, *, withdrawn: bool, limit: int,
                  offset: int) -> list[WeDidRow]:
        live = "" if withdrawn else " AND withdrawn_at IS NULL"
        return [wedid_post(row) for row in self._db.all(
            f"{POSTS} WHERE brand_id = ?{live} ORDER BY posted_at DESC, id LIMIT ? OFFSET ?",
            (brand_id, limit, offset))]

    def withdraw(self, post_id: str, brand_id: str, now: int) -> bool:
        return bool(self._db.execute(
            "UPDATE wedid_posts SET withdrawn_at = ? WHERE id = ? AND brand_id = ?"
            " AND withdrawn_at IS NULL", (now, post_id, brand_id)).rowcount)

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

    def idea_votes(self, idea_id: str) -> int:
        return int(self._db.one("SELECT count(*) FROM idea_votes WHERE idea_id = ?",
                                (idea_id,))[0])
