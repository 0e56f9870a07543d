"""Communities and their memberships in PostgreSQL:
:class:`community.repositories.CommunityRepository` (what both engines share is
:class:`community.sql.communities.SqlCommunities`).

Memberships and grant links are the member's rows (``member_id`` first in their keys, filled
from ``member_num`` as they are written). :meth:`PostgresqlCommunities.membership`, read inside
a write transaction, locks the member first (:func:`community.postgresql.lock_member`): joining
and leaving decide what to write from it. :meth:`PostgresqlCommunities.locked` locks the
community's row the same way: the first read of a budget period measures its size from it.
"""

from __future__ import annotations

from vault.postgresql.database import Database

from ..repositories import Community, Membership
from ..sql.communities import SqlCommunities
from . import MEMBER_ID, lock_member


class PostgresqlCommunities(SqlCommunities):
    _db: Database

    def add_member(self, membership: Membership) -> bool:
        return bool(self._db.execute(
            "INSERT INTO community_members (member_id, community_id, member_num, joined_at,"
            f" pseudonym) VALUES ({MEMBER_ID}, ?, ?, ?, ?)"
            " ON CONFLICT (member_id, community_id) DO NOTHING",
            (membership.member_num, membership.community_id, membership.member_num,
             membership.joined_at, membership.pseudonym)).rowcount)

    def locked(self, community_id: str) -> Community | None:
        self._db.lock("SELECT 1 FROM communities WHERE id = ? FOR NO KEY UPDATE",
                      (community_id,))
        return self.get(community_id)

    def membership(self, community_id: str, member_num: int) -> Membership | None:
        lock_member(self._db, member_num)
        return super().membership(community_id, member_num)

    def link_grant(self, community_id: str, member_num: int, grant_id: str) -> None:
        self._db.execute(
            "INSERT INTO community_grants (member_id, community_id, member_num, grant_id)"
            f" VALUES ({MEMBER_ID}, ?, ?, ?) ON CONFLICT DO NOTHING",
            (member_num, community_id, member_num, grant_id))

    def member_count(self, community_id: str, now: int) -> int:
        # The member's rows meet on the member (one shard under Citus).
        return int(self._db.one(
            "SELECT count(*) FROM community_members AS m WHERE m.community_id = ?"
            " AND EXISTS (SELECT 1 FROM community_grants AS l"
            "   JOIN grants AS g ON g.member_id = l.member_id AND g.id = l.grant_id"
            "   WHERE l.member_id = m.member_id AND l.community_id = m.community_id"
            "     AND g.status = 'active' AND g.starts_at <= ? AND g.ends_at > ?)",
            (community_id, now, now))[0])
