"""Challenges, ideas and votes in PostgreSQL: :class:`community.repositories.CoCreationRepository`.

Challenges are shared; an idea is its author's row and a vote its voter's (``member_id`` first
in their keys), each going with its membership (a composite foreign key on the member):
leaving a community or an erasure deletes them. No foreign key joins two members, so a vote
does not reference its idea: the idea's deletion deletes its votes by trigger (migration 4),
and :meth:`PostgresqlCoCreation.vote` locks the idea (``FOR KEY SHARE``: the idea may not be
deleted before the vote commits) and refuses, as SQLite's foreign key does, a vote for an
idea that does not exist. Vote counts are counted on reading (``idea_votes`` is the truth).

Inside a write transaction, :meth:`ideas` locks the ideas it reads (releasing them writes
``released`` from what was read, so two releases at once record each version once); ordering
ties are broken by id, where SQLCipher has the order of writing (rowid).

Reads that cross members (an idea's votes are other members' rows) cannot be joined on
``member_id``: the vote counts and :meth:`voted` read ``idea_votes`` by idea.
"""

from __future__ import annotations

from typing import Any

from vault.errors import ConstraintViolationError
from vault.postgresql import PostgresqlRepository

from ..repositories import Challenge, IdeaRow

_CHALLENGE = "SELECT id, community_id, title, description, created_at, closed_at FROM challenges"
_IDEAS = ("SELECT i.id, i.challenge_id, i.community_id, i.member_num, i.text_sealed,"
          " i.version, i.created_at, i.updated_at, i.released, i.taken_up_at,"
          " (SELECT count(*) FROM idea_votes AS v WHERE v.idea_id = i.id) AS votes"
          " FROM ideas AS i")
_MEMBER_ID = "(SELECT id FROM members WHERE num = ?)"


def _challenge(row: Any) -> Challenge:
    return Challenge(row["id"], row["community_id"], row["title"], row["description"],
                     row["created_at"], row["closed_at"])


def _idea(row: Any) -> IdeaRow:
    return IdeaRow(row["id"], row["challenge_id"], row["community_id"], row["member_num"],
                   bytes(row["text_sealed"]), row["version"], row["created_at"],
                   row["updated_at"], row["released"], row["taken_up_at"], int(row["votes"]))


class PostgresqlCoCreation(PostgresqlRepository):
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

    def insert_idea(self, idea: IdeaRow) -> None:
        self._db.execute(
            "INSERT INTO ideas (member_id, id, challenge_id, community_id, member_num,"
            " text_sealed, version, created_at, updated_at, released, taken_up_at)"
            f" VALUES ({_MEMBER_ID}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (idea.member_num, idea.id, idea.challenge_id, idea.community_id, idea.member_num,
             idea.text_sealed, idea.version, idea.created_at, idea.updated_at, idea.released,
             idea.taken_up_at))

    def idea(self, idea_id: str) -> IdeaRow | None:
        row = self._db.one(f"{_IDEAS} WHERE i.id = ?", (idea_id,))
        return None if row is None else _idea(row)

    def ideas(self, challenge_id: str) -> list[IdeaRow]:
        lock = " FOR NO KEY UPDATE OF i" if self._db.in_transaction else ""
        return [_idea(row) for row in self._db.all(
            f"{_IDEAS} WHERE i.challenge_id = ? ORDER BY i.created_at, i.rowid{lock}",
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
        self._db.execute("UPDATE ideas SET released = greatest(released, ?) WHERE id = ?",
                         (version, idea_id))

    def take_up(self, idea_id: str, now: int) -> bool:
        return bool(self._db.execute(
            "UPDATE ideas SET taken_up_at = ? WHERE id = ? AND taken_up_at IS NULL",
            (now, idea_id)).rowcount)

    def vote(self, idea_id: str, community_id: str, member_num: int, now: int) -> bool:
        with self._db.transaction():
            if self._db.one("SELECT 1 FROM ideas WHERE id = ? FOR KEY SHARE",
                            (idea_id,)) is None:
                raise ConstraintViolationError("FOREIGN KEY constraint failed: idea_votes.idea_id")
            return bool(self._db.execute(
                "INSERT INTO idea_votes (member_id, idea_id, community_id, member_num, voted_at)"
                f" VALUES ({_MEMBER_ID}, ?, ?, ?, ?) ON CONFLICT (member_id, idea_id) DO NOTHING",
                (member_num, idea_id, community_id, member_num, now)).rowcount)

    def unvote(self, idea_id: str, member_num: int) -> bool:
        return bool(self._db.execute(
            "DELETE FROM idea_votes WHERE idea_id = ? AND member_num = ?",
            (idea_id, member_num)).rowcount)

    def voted(self, challenge_id: str, member_num: int) -> set[str]:
        return {row[0] for row in self._db.all(
            "SELECT idea_id FROM idea_votes WHERE member_num = ?"
            " AND idea_id IN (SELECT id FROM ideas WHERE challenge_id = ?)",
            (member_num, challenge_id))}

    def member_ideas(self, member_num: int) -> list[IdeaRow]:
        return [_idea(row) for row in self._db.all(
            f"{_IDEAS} WHERE i.member_num = ? ORDER BY i.created_at, i.rowid", (member_num,))]

    def member_votes(self, member_num: int) -> list[tuple[str, int]]:
        return [(row[0], int(row[1])) for row in self._db.all(
            "SELECT idea_id, voted_at FROM idea_votes WHERE member_num = ?"
            " ORDER BY voted_at, idea_id", (member_num,))]
