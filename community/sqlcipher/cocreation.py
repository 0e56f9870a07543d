"""Challenges, ideas and votes in SQLCipher: :class:`community.repositories.CoCreationRepository`.

Authors and voters are referenced by the member's integer key and their membership (a composite
foreign key): leaving a community or an erasure deletes their ideas and votes with it. Vote
counts are counted on reading (``idea_votes`` is the truth; nothing to keep in step).
"""

from __future__ import annotations

from typing import Any

from vault.sqlcipher import SqlcipherRepository

from ..repositories import Challenge, IdeaRow

_IDEAS = ("SELECT i.*, (SELECT count(*) FROM idea_votes v WHERE v.idea_id = i.id) AS votes"
          " FROM ideas i")


def _challenge(row: Any) -> Challenge:
    return Challenge(row["id"], row["community_id"], row["title"], row["description"],
                     row["created_at"], row["closed_at"])


def _idea(row: Any) -> IdeaRow:
    return IdeaRow(row["id"], row["challenge_id"], row["community_id"], row["member_num"],
                   bytes(row["text_sealed"]), row["version"], row["created_at"],
                   row["updated_at"], row["released"], row["taken_up_at"], row["votes"])


class SqlcipherCoCreation(SqlcipherRepository):
    def insert_challenge(self, challenge: Challenge) -> None:
        self._db.execute(
            "INSERT INTO challenges (id, community_id, title, description, created_at,"
            " closed_at) VALUES (?, ?, ?, ?, ?, ?)",
            (challenge.id, challenge.community_id, challenge.title, challenge.description,
             challenge.created_at, challenge.closed_at))

    def challenge(self, challenge_id: str) -> Challenge | None:
        row = self._db.one("SELECT * FROM challenges WHERE id = ?", (challenge_id,))
        return None if row is None else _challenge(row)

    def challenges(self, community_id: str) -> list[Challenge]:
        return [_challenge(row) for row in self._db.all(
            "SELECT * FROM challenges WHERE community_id = ?"
            " ORDER BY created_at DESC, rowid DESC", (community_id,))]

    def close_challenge(self, challenge_id: str, now: int) -> bool:
        return bool(self._db.execute(
            "UPDATE challenges SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
            (now, challenge_id)).rowcount)

    def insert_idea(self, idea: IdeaRow) -> None:
        self._db.execute(
            "INSERT INTO ideas (id, challenge_id, community_id, member_num, text_sealed,"
            " version, created_at, updated_at, released, taken_up_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (idea.id, idea.challenge_id, idea.community_id, idea.member_num, idea.text_sealed,
             idea.version, idea.created_at, idea.updated_at, idea.released, idea.taken_up_at))

    def idea(self, idea_id: str) -> IdeaRow | None:
        row = self._db.one(f"{_IDEAS} WHERE i.id = ?", (idea_id,))
        return None if row is None else _idea(row)

    def ideas(self, challenge_id: str) -> list[IdeaRow]:
        return [_idea(row) for row in self._db.all(
            f"{_IDEAS} WHERE i.challenge_id = ? ORDER BY i.created_at, i.rowid",
            (challenge_id,))]

    def update_idea(self, idea_id: str, member_num: int, text_sealed: bytes, now: int) -> bool:
        return bool(self._db.execute(
            "UPDATE ideas SET text_sealed = ?, version = version + 1, updated_at = ?"
            " WHERE id = ? AND member_num = ?",
            (text_sealed, now, idea_id, member_num)).rowcount)

    def delete_idea(self, idea_id: str, member_num: int) -> bool:
        return bool(self._db.execute("DELETE FROM ideas WHERE id = ? AND member_num = ?",
                                     (idea_id, member_num)).rowcount)

    def mark_released(self, idea_id: str, version: int) -> None:
        self._db.execute("UPDATE ideas SET released = max(released, ?) WHERE id = ?",
                         (version, idea_id))

    def take_up(self, idea_id: str, now: int) -> bool:
        return bool(self._db.execute(
            "UPDATE ideas SET taken_up_at = ? WHERE id = ? AND taken_up_at IS NULL",
            (now, idea_id)).rowcount)

    def vote(self, idea_id: str, community_id: str, member_num: int, now: int) -> bool:
        return bool(self._db.execute(
            "INSERT INTO idea_votes (idea_id, community_id, member_num, voted_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (idea_id, member_num) DO NOTHING",
            (idea_id, community_id, member_num, now)).rowcount)

    def unvote(self, idea_id: str, member_num: int) -> bool:
        return bool(self._db.execute(
            "DELETE FROM idea_votes WHERE idea_id = ? AND member_num = ?",
            (idea_id, member_num)).rowcount)

    def voted(self, challenge_id: str, member_num: int) -> set[str]:
        return {row[0] for row in self._db.all(
            "SELECT v.idea_id FROM idea_votes v JOIN ideas i ON i.id = v.idea_id"
            " WHERE i.challenge_id = ? AND v.member_num = ?", (challenge_id, member_num))}

    def member_ideas(self, member_num: int) -> list[IdeaRow]:
        return [_idea(row) for row in self._db.all(
            f"{_IDEAS} WHERE i.member_num = ? ORDER BY i.created_at, i.rowid", (member_num,))]

    def member_votes(self, member_num: int) -> list[tuple[str, int]]:
        return [(row[0], int(row[1])) for row in self._db.all(
            "SELECT idea_id, voted_at FROM idea_votes WHERE member_num = ?"
            " ORDER BY voted_at, idea_id", (member_num,))]
