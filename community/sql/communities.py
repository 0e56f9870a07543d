"""Communities and their memberships, what both engines share:
:class:`community.repositories.CommunityRepository`.

``purposes`` is a sorted JSON array; ``rowid`` breaks ties between communities opened in one
second, so "newest first" is the order of writing. Memberships and grant links are found by
the member's integer key (``member_num``) the contract speaks of.
"""

from __future__ import annotations

import json
from typing import Any

from vault.sql import SqlRepository

from ..repositories import Community, Membership

_COMMUNITY = ("SELECT id, brand_id, name, description, purposes, created_at, closed_at,"
              " size_period, size_reported FROM communities")
_MEMBERSHIP = "SELECT community_id, member_num, joined_at, pseudonym FROM community_members"


def _community(row: Any) -> Community:
    return Community(row["id"], row["brand_id"], row["name"], row["description"],
                     tuple(json.loads(row["purposes"])), row["created_at"], row["closed_at"],
                     row["size_period"], row["size_reported"])


def _membership(row: Any) -> Membership:
    return Membership(row["community_id"], row["member_num"], row["joined_at"],
                      row["pseudonym"])


class SqlCommunities(SqlRepository):
    def insert(self, community: Community) -> None:
        self._db.execute(
            "INSERT INTO communities (id, brand_id, name, description, purposes, created_at,"
            " closed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (community.id, community.brand_id, community.name, community.description,
             json.dumps(sorted(community.purposes)), community.created_at,
             community.closed_at))

    def get(self, community_id: str) -> Community | None:
        row = self._db.one(f"{_COMMUNITY} WHERE id = ?", (community_id,))
        return None if row is None else _community(row)

    def locked(self, community_id: str) -> Community | None:
        """SQLCipher's write transaction holds the whole store: a read is enough (PostgreSQL
        locks the row)."""
        return self.get(community_id)

    def keep_size(self, community_id: str, period_start: int, reported: int | None) -> None:
        self._db.execute("UPDATE communities SET size_period = ?, size_reported = ? WHERE id = ?",
                         (period_start, reported, community_id))

    def for_brand(self, brand_id: str) -> list[Community]:
        return [_community(row) for row in self._db.all(
            f"{_COMMUNITY} WHERE brand_id = ? ORDER BY created_at DESC, rowid DESC", (brand_id,))]

    def open_communities(self) -> list[Community]:
        return [_community(row) for row in self._db.all(
            f"{_COMMUNITY} WHERE closed_at IS NULL ORDER BY created_at DESC, rowid DESC")]

    def close(self, community_id: str, now: int) -> bool:
        return bool(self._db.execute(
            "UPDATE communities SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
            (now, community_id)).rowcount)

    def member_number(self, member_id: str) -> int | None:
        row = self._db.one("SELECT num FROM members WHERE id = ?", (member_id,))
        return None if row is None else int(row[0])

    def member_id(self, member_num: int) -> str | None:
        row = self._db.one("SELECT id FROM members WHERE num = ?", (member_num,))
        return None if row is None else str(row[0])

    def membership(self, community_id: str, member_num: int) -> Membership | None:
        row = self._db.one(f"{_MEMBERSHIP} WHERE community_id = ? AND member_num = ?",
                           (community_id, member_num))
        return None if row is None else _membership(row)

    def memberships(self, member_num: int) -> list[Membership]:
        return [_membership(row) for row in self._db.all(
            f"{_MEMBERSHIP} WHERE member_num = ? ORDER BY joined_at DESC, community_id",
            (member_num,))]

    def members(self, community_id: str) -> list[int]:
        return [int(row[0]) for row in self._db.all(
            "SELECT member_num FROM community_members WHERE community_id = ?"
            " ORDER BY joined_at, member_num", (community_id,))]

    def remove_member(self, community_id: str, member_num: int) -> bool:
        return bool(self._db.execute(
            "DELETE FROM community_members WHERE community_id = ? AND member_num = ?",
            (community_id, member_num)).rowcount)

    def linked_grants(self, community_id: str, member_num: int) -> list[str]:
        return [row[0] for row in self._db.all(
            "SELECT grant_id FROM community_grants WHERE community_id = ? AND member_num = ?"
            " ORDER BY grant_id", (community_id, member_num))]

    def holders(self, grant_id: str) -> list[str]:
        return [row[0] for row in self._db.all(
            "SELECT community_id FROM community_grants WHERE grant_id = ? ORDER BY community_id",
            (grant_id,))]
