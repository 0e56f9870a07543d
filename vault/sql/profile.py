"""Profile values (sealed, one row per member and attribute, keyed by
``(member_id, attribute)``): :class:`vault.repositories.ProfileRepository`. Setting a value is
one upsert; no read here decides a write. Each engine's module says how a member's values are
read: all of them (:attr:`SqlProfileValues._READ_ALL`) or some (``_read_some``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

from . import SqlRepository

#: What every read of a member's values selects.
READ = "SELECT attribute, value_sealed FROM profile_values"


class SqlProfileValues(SqlRepository, ABC):
    INSERT = ("INSERT INTO profile_values (member_id, attribute, value_sealed, updated_at)"
              " VALUES (?, ?, ?, ?)")
    #: The statement that reads all of a member's values, given the member's id.
    _READ_ALL = f"{READ} WHERE member_id = ?"

    @abstractmethod
    def _read_some(self, member_id: str, attributes: Sequence[str]
                   ) -> tuple[str, Sequence[Any]]:
        """The statement that reads the member's values of ``attributes`` (one at least), and
        its parameters."""

    def values(self, member_id: str, attributes: Sequence[str] | None = None
               ) -> list[tuple[str, bytes]]:
        if attributes is None:
            rows = self._db.all(self._READ_ALL, (member_id,))
        elif not attributes:
            return []
        else:
            rows = self._db.all(*self._read_some(member_id, attributes))
        return [(row[0], row[1]) for row in rows]

    def put(self, member_id: str, attribute: str, sealed: bytes, updated_at: int) -> None:
        self._db.execute(
            f"{self.INSERT} ON CONFLICT (member_id, attribute) DO UPDATE SET"
            " value_sealed = excluded.value_sealed, updated_at = excluded.updated_at",
            (member_id, attribute, sealed, updated_at))

    def put_many(self, rows: Iterable[tuple[str, str, bytes, int]]) -> None:
        self._db.executemany(self.INSERT, rows)

    def remove(self, member_id: str, attribute: str) -> None:
        self._db.execute("DELETE FROM profile_values WHERE member_id = ? AND attribute = ?",
                         (member_id, attribute))
