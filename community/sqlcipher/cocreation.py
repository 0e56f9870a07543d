"""Challenges, ideas and votes in SQLCipher: :class:`community.repositories.CoCreationRepository`
(what both engines share is :class:`community.sql.cocreation.SqlCoCreation`).

Authors and voters are referenced by the member's integer key; a vote references its idea (a
foreign key), so an idea's deletion deletes its votes.
"""

from __future__ import annotations

from ..repositories import IdeaRow
from ..sql.cocreation import SqlCoCreation


class SqlcipherCoCreation(SqlCoCreation):
    _GREATEST = "max"

    def insert_idea(self, idea: IdeaRow) -> None:
        self._db.execute(
            "INSERT INTO ideas (id, challenge_id, community_id, member_num, text_sealed,"
            " version, created_at, updated_at, released, taken_up_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (idea.id, idea.challenge_id, idea.community_id, idea.member_num, idea.text_sealed,
             idea.version, idea.created_at, idea.updated_at, idea.released, idea.taken_up_at))

    def vote(self, idea_id: str, community_id: str, member_num: int, now: int) -> bool:
        return bool(self._db.execute(
            "INSERT INTO idea_votes (idea_id, community_id, member_num, voted_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (idea_id, member_num) DO NOTHING",
            (idea_id, community_id, member_num, now)).rowcount)

    def voted(self, challenge_id: str, member_num: int) -> set[str]:
        return {row[0] for row in self._db.all(
            "SELECT v.idea_id FROM idea_votes v JOIN ideas i ON i.id = v.idea_id"
            " WHERE i.challenge_id = ? AND v.member_num = ?", (challenge_id, member_num))}
