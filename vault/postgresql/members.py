"""The members table (accounts) in PostgreSQL: :class:`vault.repositories.MemberRepository`
(:mod:`vault.sql.members`).

What differs from SQLCipher's, and why:

- One account per blind index is kept by ``member_logins`` (keyed by the index, distributed by
  it), not by a UNIQUE constraint of ``members``, which is distributed by member: an account
  claims its index there in the transaction that adds it, :meth:`~PostgresqlMembers.cut_login`
  moves the claim, and erasure deletes it (``vault/postgresql/erasure.py``). A sign-in finds
  the account through it: one lookup by the index, then one by the member's id.
- A transaction that reads an account (``get``, ``find_by_index``, ``exists``) locks its row
  (``FOR NO KEY UPDATE``) until it ends, where SQLCipher's holds the whole store's write lock:
  two hosts checking one TOTP step, changing one role or erasing one member do it one after
  the other, the second seeing what the first wrote. Outside a transaction nothing is locked.
- Roles are in ``member_roles`` (data migration 9), one row per account at most, keyed by the
  member's id; every join with it is on the member's id.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..repositories import MemberRecord, NewMember
from ..sql.members import MEMBER, SqlMembers, member_from_row

# An account without a row in member_roles is an ordinary member (data migration 0009).
_COLUMNS = ("SELECT m.id, m.email_sealed, m.password_hash, m.created_at, m.totp_sealed,"
            " m.totp_last_step, COALESCE(r.role, 'member') AS role"
            " FROM members AS m LEFT JOIN member_roles AS r ON r.member_id = m.id")
_LOCK = " FOR NO KEY UPDATE OF m"


class PostgresqlMembers(SqlMembers):
    def _lock(self) -> str:
        return _LOCK if self._db.in_transaction else ""

    def insert(self, member_id: str, *, email_index: bytes, email_sealed: bytes,
               password_hash: str, created_at: int) -> bool:
        with self._db.transaction():
            # Of two accounts claiming one index at once, the second waits for the first and
            # then finds it taken.
            if not self._db.execute(
                    "INSERT INTO member_logins (email_index, member_id) VALUES (?, ?)"
                    " ON CONFLICT (email_index) DO NOTHING", (email_index, member_id)).rowcount:
                return False
            if not self._db.execute(
                    "INSERT INTO members (id, email_index, email_sealed, password_hash,"
                    " created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                    (member_id, email_index, email_sealed, password_hash,
                     created_at)).rowcount:
                self._db.execute("DELETE FROM member_logins WHERE email_index = ?"
                                 " AND member_id = ?", (email_index, member_id))
                return False
        return True

    def insert_many(self, rows: Sequence[NewMember]) -> None:
        # The logins claim their indexes first (a taken one fails the batch), then the rows.
        self._db.executemany("INSERT INTO member_logins (email_index, member_id) VALUES (?, ?)",
                             [(r.email_index, r.id) for r in rows])
        super().insert_many(rows)

    def get(self, member_id: str) -> MemberRecord | None:
        return member_from_row(self._db.one(f"{_COLUMNS} WHERE m.id = ?{self._lock()}",
                                            (member_id,)))

    def find_by_index(self, email_index: bytes) -> MemberRecord | None:
        login = self._db.one("SELECT member_id FROM member_logins WHERE email_index = ?",
                             (email_index,))
        if login is None:
            return None
        # The account may have been cut from this index since (erasure): it must still hold it.
        return member_from_row(self._db.one(
            f"{_COLUMNS} WHERE m.id = ? AND m.email_index = ?{self._lock()}",
            (login[0], email_index)))

    def exists(self, member_id: str) -> bool:
        return self._db.one(f"SELECT 1 FROM members AS m WHERE m.id = ?{self._lock()}",
                            (member_id,)) is not None

    def ids_with_role(self, role: str) -> list[str]:
        if role == MEMBER:
            return [row["id"] for row in self._db.all(
                "SELECT m.id FROM members AS m WHERE NOT EXISTS (SELECT 1 FROM member_roles"
                " AS r WHERE r.member_id = m.id) ORDER BY m.num")]
        return [row["id"] for row in self._db.all(
            "SELECT m.id FROM member_roles AS r JOIN members AS m ON m.id = r.member_id"
            " WHERE r.role = ? ORDER BY m.num", (role,))]

    def set_role(self, member_id: str, role: str) -> bool:
        if role == MEMBER:
            return bool(self._db.execute("DELETE FROM member_roles WHERE member_id = ?",
                                         (member_id,)).rowcount)
        return bool(self._db.execute(
            "INSERT INTO member_roles (member_id, member_num, role)"
            " SELECT m.id, m.num, ? FROM members AS m WHERE m.id = ?"
            " ON CONFLICT (member_id) DO UPDATE SET role = excluded.role"
            " WHERE member_roles.role <> excluded.role", (role, member_id)).rowcount)

    def cut_login(self, member_id: str, email_index: bytes) -> None:
        with self._db.transaction():
            row = self._db.one("SELECT email_index FROM members WHERE id = ? FOR NO KEY UPDATE",
                               (member_id,))
            if row is None:
                return
            self._db.execute("DELETE FROM member_logins WHERE email_index = ? AND member_id = ?",
                             (row[0], member_id))
            self._db.execute("UPDATE members SET email_index = ? WHERE id = ?",
                             (email_index, member_id))
            self._db.execute("INSERT INTO member_logins (email_index, member_id) VALUES (?, ?)",
                             (email_index, member_id))
