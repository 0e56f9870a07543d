"""Counting one member's rows in every member table, for erasure and restore tests."""

from __future__ import annotations

MEMBER_ROWS = {"members": "id", "profile_values": "member_id", "feedback": "member_num",
               "web_sessions": "member_id"}

# Feedback rows point at members by an integer key; remembered while the member exists, so
# counting after an erasure still looks for the erased member's rows (not for NULL).
MEMBER_NUMS: dict[str, int] = {}


def member_key(vault, member_id: str, column: str) -> object:
    if column != "member_num":
        return member_id
    row = vault.data.one("SELECT num FROM members WHERE id = ?", (member_id,))
    if row is not None:
        MEMBER_NUMS[member_id] = row[0]
    return MEMBER_NUMS[member_id]


def row_counts(vault, member_id: str) -> dict[str, int]:
    return {
        table: vault.data.one(f"SELECT count(*) FROM {table} WHERE {column} = ?",
                              (member_key(vault, member_id, column),))[0]
        for table, column in MEMBER_ROWS.items()
    }
