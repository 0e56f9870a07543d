"""Profile values in SQLCipher: :class:`vault.repositories.ProfileRepository`
(:mod:`vault.sql.profile`). The table is ``WITHOUT ROWID``, keyed by ``(member_id,
attribute)``, so a member's values sit together on few pages; a partial read names its
attributes in an ``IN`` list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..sql.profile import READ, SqlProfileValues

# The brand API's reads name up to a few dozen attributes: one IN list per count, made once.
_READ_SOME: dict[int, str] = {}


class SqlcipherProfileValues(SqlProfileValues):
    def _read_some(self, member_id: str, attributes: Sequence[str]
                   ) -> tuple[str, Sequence[Any]]:
        count = len(attributes)
        sql = _READ_SOME.get(count)
        if sql is None:
            sql = _READ_SOME[count] = (
                f"{READ} WHERE member_id = ? AND attribute IN ({','.join('?' * count)})")
        return sql, (member_id, *attributes)
