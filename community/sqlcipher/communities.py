"""Communities and their memberships in SQLCipher:
:class:`community.repositories.CommunityRepository` (what both engines share is
:class:`community.sql.communities.SqlCommunities`).

Memberships and grant links reference their member by the member's integer key
(``members.num``), as hot tables do.
"""

from __future__ import annotations

from ..repositories import Membership
from ..sql.communities import SqlCommunities


class SqlcipherCommunities(SqlCommunities):
    def add_member(self, membership: Membership) -> bool:
        return bool(self._db.execute(
            "INSERT INTO community_members (community_id, member_num, joined_at, pseudonym)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (community_id, member_num) DO NOTHING",
            (membership.community_id, membership.member_num, membership.joined_at,
             membership.pseudonym)).rowcount)

    def link_grant(self, community_id: str, member_num: int, grant_id: str) -> None:
        self._db.execute(
            "INSERT INTO community_grants (community_id, member_num, grant_id) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING", (community_id, member_num, grant_id))

    def member_count(self, community_id: str, now: int) -> int:
        return int(self._db.one(
            "SELECT count(*) FROM community_members AS m WHERE m.community_id = ?"
            " AND EXISTS (SELECT 1 FROM community_grants AS l"
            "   JOIN grants AS g ON g.id = l.grant_id"
            "   WHERE l.community_id = m.community_id AND l.member_num = m.member_num"
            "     AND g.status = 'active' AND g.starts_at <= ? AND g.ends_at > ?)",
            (community_id, now, now))[0])
