"""The members table (accounts) in SQLCipher: :class:`vault.repositories.MemberRepository`
(:mod:`vault.sql.members`). One account per blind index is kept by a UNIQUE constraint of
``members``; roles are keyed by the account's integer key (``member_roles.member_num``)."""

from __future__ import annotations

from ..errors import ConstraintViolationError
from ..repositories import MemberRecord
from ..sql.members import MEMBER, SqlMembers, member_from_row

# An account without a row in member_roles is an ordinary member (data migration 0009).
_COLUMNS = ("SELECT id, email_sealed, password_hash, created_at, totp_sealed, totp_last_step,"
            " COALESCE(r.role, 'member') AS role"
            " FROM members LEFT JOIN member_roles AS r ON r.member_num = members.num")


class SqlcipherMembers(SqlMembers):
    def insert(self, member_id: str, *, email_index: bytes, email_sealed: bytes,
               password_hash: str, created_at: int) -> bool:
        try:
            self._db.execute(
                "INSERT INTO members (id, email_index, email_sealed, password_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (member_id, email_index, email_sealed, password_hash, created_at))
        except ConstraintViolationError:
            return False
        return True

    def get(self, member_id: str) -> MemberRecord | None:
        return member_from_row(self._db.one(f"{_COLUMNS} WHERE id = ?", (member_id,)))

    def find_by_index(self, email_index: bytes) -> MemberRecord | None:
        return member_from_row(self._db.one(f"{_COLUMNS} WHERE email_index = ?",
                                            (email_index,)))

    def exists(self, member_id: str) -> bool:
        return self._db.one("SELECT 1 FROM members WHERE id = ?", (member_id,)) is not None

    def ids_with_role(self, role: str) -> list[str]:
        if role == MEMBER:
            return [row["id"] for row in self._db.all(
                "SELECT id FROM members WHERE num NOT IN (SELECT member_num FROM member_roles)"
                " ORDER BY num")]
        return [row["id"] for row in self._db.all(
            "SELECT m.id FROM member_roles AS r JOIN members AS m ON m.num = r.member_num"
            " WHERE r.role = ? ORDER BY r.member_num", (role,))]

    def set_role(self, member_id: str, role: str) -> bool:
        if role == MEMBER:
            return bool(self._db.execute(
                "DELETE FROM member_roles"
                " WHERE member_num = (SELECT num FROM members WHERE id = ?)",
                (member_id,)).rowcount)
        return bool(self._db.execute(
            "INSERT INTO member_roles (member_num, role)"
            " SELECT num, ? FROM members WHERE id = ?"
            " ON CONFLICT (member_num) DO UPDATE SET role = excluded.role"
            " WHERE role <> excluded.role", (role, member_id)).rowcount)

    def cut_login(self, member_id: str, email_index: bytes) -> None:
        self._db.execute("UPDATE members SET email_index = ? WHERE id = ?",
                         (email_index, member_id))
