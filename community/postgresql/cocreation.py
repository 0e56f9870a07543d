"""Challenges, ideas and votes in PostgreSQL: :class:`community.repositories.CoCreationRepository`
(what both engines share is :class:`community.sql.cocreation.SqlCoCreation`).

Challenges are shared; an idea is its author's row and a vote its voter's (``member_id`` first
in their keys). No foreign key joins two members, so a vote does not reference its idea: the
idea's deletion deletes its votes by trigger (migration 4), and
:meth:`PostgresqlCoCreation.vote` locks the idea (``FOR KEY SHARE``: the idea may not be
deleted before the vote commits) and refuses, as SQLite's foreign key does, a vote for an
idea that does not exist.

Inside a write transaction, :meth:`~community.sql.cocreation.SqlCoCreation.ideas` locks the
ideas it reads (releasing them writes ``released`` from what was read, so two releases at once
record each version once).

Reads that cross members (an idea's votes are other members' rows) cannot be joined on
``member_id``: the vote counts and :meth:`PostgresqlCoCreation.voted` read ``idea_votes`` by
idea.
"""

from __future__ import annotations

from vault.errors import ConstraintViolationError

from ..repositories import IdeaRow
from ..sql.cocreation import SqlCoCreation
from . import MEMBER_ID


class PostgresqlCoCreation(SqlCoCreation):
    _GREATEST = "greatest"

    def _lock_ideas(self) -> str:
        return " FOR NO KEY UPDATE OF i" if self._db.in_transaction else ""

    def insert_idea(self, idea: IdeaRow) -> None:
        self._db.execute(
            "INSERT INTO ideas (member_id, id, challenge_id, community_id, member_num,"
            " text_sealed, version, created_at, updated_at, released, taken_up_at)"
            f" VALUES ({MEMBER_ID}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (idea.member_num, idea.id, idea.challenge_id, idea.community_id, idea.member_num,
             idea.text_sealed, idea.version, idea.created_at, idea.updated_at, idea.released,
             idea.taken_up_at))

    def vote(self, idea_id: str, community_id: str, member_num: int, now: int) -> bool:
        with self._db.transaction():
            if self._db.one("SELECT 1 FROM ideas WHERE id = ? FOR KEY SHARE",
                            (idea_id,)) is None:
                raise ConstraintViolationError("FOREIGN KEY constraint failed: idea_votes.idea_id")
            return bool(self._db.execute(
                "INSERT INTO idea_votes (member_id, idea_id, community_id, member_num, voted_at)"
                f" VALUES ({MEMBER_ID}, ?, ?, ?, ?) ON CONFLICT (member_id, idea_id) DO NOTHING",
                (member_num, idea_id, community_id, member_num, now)).rowcount)

    def voted(self, challenge_id: str, member_num: int) -> set[str]:
        return {row[0] for row in self._db.all(
            "SELECT idea_id FROM idea_votes WHERE member_num = ?"
            " AND idea_id IN (SELECT id FROM ideas WHERE challenge_id = ?)",
            (member_num, challenge_id))}
