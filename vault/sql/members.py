"""The members table (accounts): :class:`vault.repositories.MemberRepository`. The row mapping
and the updates of an account's own columns are the same on both engines; each engine's module
adds how an account claims its blind index, how it is read, and its role (``member_roles``,
data migration 9: an account without a row there is an ordinary member)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..repositories import MemberRecord, NewMember
from . import SqlRepository

MEMBER = "member"


def member_from_row(row: Any) -> MemberRecord | None:
    """The account a row of ``id, email_sealed, password_hash, created_at, totp_sealed,
    totp_last_step, role`` holds, or ``None`` for no row."""
    if row is None:
        return None
    return MemberRecord(row["id"], row["email_sealed"], row["password_hash"], row["created_at"],
                        row["totp_sealed"], row["totp_last_step"], row["role"])


class SqlMembers(SqlRepository):
    def insert_many(self, rows: Sequence[NewMember]) -> None:
        # Plain inserts (no ON CONFLICT): a taken index or id fails the statement, and the
        # caller's transaction with it.
        self._db.executemany(
            "INSERT INTO members (id, email_index, email_sealed, password_hash, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [(r.id, r.email_index, r.email_sealed, r.password_hash, r.created_at)
             for r in rows])

    def ids(self) -> list[str]:
        return [row["id"] for row in self._db.all("SELECT id FROM members ORDER BY num")]

    def set_password_hash(self, member_id: str, password_hash: str) -> None:
        self._db.execute("UPDATE members SET password_hash = ? WHERE id = ?",
                         (password_hash, member_id))

    def set_second_factor(self, member_id: str, totp_sealed: bytes | None,
                          last_step: int | None) -> None:
        self._db.execute("UPDATE members SET totp_sealed = ?, totp_last_step = ? WHERE id = ?",
                         (totp_sealed, last_step, member_id))

    def set_last_step(self, member_id: str, step: int) -> None:
        self._db.execute("UPDATE members SET totp_last_step = ? WHERE id = ?",
                         (step, member_id))
