"""Challenges, ideas and votes, what both engines share:
:class:`community.repositories.CoCreationRepository`.

Authors and voters go with their membership (a composite foreign key on the member): leaving
a community or an erasure deletes their ideas and votes with it. Vote counts are counted on
reading (``idea_votes`` is the truth; nothing to keep in step), by idea.
"""

from __future__ import annotations

from typing import Any, ClassVar

from vault.sql import SqlRepository

from ..repositories import Challenge, IdeaRow

_CHALLENGE = "SELECT id, community_id, title, description, created_at, closed_at FROM challenges"
_IDEAS = ("SELECT i.id, i.challenge_id, i.community_id, i.member_num, i.text_sealed,"
          " i.version, i.created_at, i.updated_at, i.released, i.taken_up_at,"
          " (SELECT count(*) FROM idea_votes AS v WHERE v.idea_id = i.id) AS votes"
          " FROM ideas AS i")


def _challenge(row: Any) -> Challenge:
    return Challenge(row["id"], row["community_id"], row["title"], row["description"],
                     row["created_at"], row["closed_at"])


def _idea(row: Any) -> IdeaRow:
    return IdeaRow(row["id"], row["challenge_id"], row["community_id"], row["member_num"],
                   bytes(row["text_sealed"]), row["version"], row["created_at"],
                   row["updated_at"], row["released"], row["taken_up_at"], int(row["votes"]))


class SqlCoCreation(SqlRepository):
    # The engine's function of the larger of two values (SQLite's two-argument max).
    _GREATEST: ClassVar[str]

    def _lock_ideas(self) -> str:
        """What :meth:`ideas` adds to its statement to lock the ideas it reads, where the
        engine's write transaction does not already keep their ``released`` from changing."""
        return ""

    def insert_challenge(self, challenge: Challenge) -> None:
        self._db.execute(
            "INSERT INTO challenges (id, community_id, title, description, created_at,"
            " closed_at) VALUES (?, ?, ?, ?, ?, ?)",
            (challenge.id, challenge.community_id, challenge.title, challenge.description,
             challenge.created_at, challenge.closed_at))

    def challenge(self, challenge_id: str) -> Challenge | None:
        row = self._db.one(f"{_CHALLENGE} WHERE id = ?", (challenge_id,))
        return None if row is None else _challenge(row)

    def challenges(self, community_id: str) -> list[Challenge]:
        return [_challenge(row) for row in self._db.all(
            f"{_CHALLENGE} WHERE community_id = ? ORDER BY created_at DESC, rowid DESC",
            (community_id,))]

    def close_challenge(self, challenge_id: str, now: int) -> bool:
        return bool(self._db.execute(
            "UPDATE challenges SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
            (now, challenge_id)).rowcount)

    def idea(self, idea_id: str) -> IdeaRow | None:
        row = self._db.one(f"{_IDEAS} WHERE i.id = ?", (idea_id,))
        return None if row is None else _idea(row)

    def ideas(self, challenge_id: str) -> list[IdeaRow]:
        return [_idea(row) for row in self._db.all(
            f"{_IDEAS} WHERE i.challenge_id = ? ORDER BY i.created_at, i.rowid"
            f"{self._lock_ideas()}", (challenge_id,))]

    def update_idea(self, idea_id: str, member_num: int, text_sealed: bytes, now: int) -> bool:
        return bool(self._db.execute(
            "UPDATE ideas SET text_sealed = ?, version = version + 1, updated_at = ?"
            " WHERE id = ? AND member_num = ?",
            (text_sealed, now, idea_id, member_num)).rowcount)

    def delete_idea(self, idea_id: str, member_num: int) -> bool:
        return bool(self._db.execute("DELETE FROM ideas WHERE id = ? AND member_num = ?",
                                     (idea_id, member_num)).rowcount)

    def mark_released(self, idea_id: str, version: int) -> None:
        self._db.execute(f"UPDATE ideas SET released = {self._GREATEST}(released, ?)"
                         " WHERE id = ?", (version, idea_id))

    def take_up(self, idea_id: str, now: int) -> bool:
        return bool(self._db.execute(
            "UPDATE ideas SET taken_up_at = ? WHERE id = ? AND taken_up_at IS NULL",
            (now, idea_id)).rowcount)

    def unvote(self, idea_id: str, member_num: int) -> bool:
        return bool(self._db.execute(
            "DELETE FROM idea_votes WHERE idea_id = ? AND member_num = ?",
            (idea_id, member_num)).rowcount)

    def member_ideas(self, member_num: int) -> list[IdeaRow]:
        return [_idea(row) for row in self._db.all(
            f"{_IDEAS} WHERE i.member_num = ? ORDER BY i.created_at, i.rowid", (member_num,))]

    def member_votes(self, member_num: int) -> list[tuple[str, int]]:
        return [(row[0], int(row[1])) for row in self._db.all(
            "SELECT idea_id, voted_at FROM idea_votes WHERE member_num = ?"
            " ORDER BY voted_at, idea_id", (member_num,))]
