"""Profile values in PostgreSQL: :class:`vault.repositories.ProfileRepository`
(:mod:`vault.sql.profile`).

``profile_values`` is member-owned, keyed as SQLCipher's ``WITHOUT ROWID`` table is; a member's
values are read by attribute, in the order SQLite hands them back in (its keys' byte order).
The attributes of a partial read are one array parameter (``= ANY``), so every read of some
attributes is one statement whatever their number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..sql.profile import READ, SqlProfileValues

# SQLite's order: its keys compare as bytes, whatever the database's collation.
_ORDER = 'ORDER BY attribute COLLATE "C"'


class PostgresqlProfileValues(SqlProfileValues):
    _READ_ALL = f"{READ} WHERE member_id = ? {_ORDER}"

    def _read_some(self, member_id: str, attributes: Sequence[str]
                   ) -> tuple[str, Sequence[Any]]:
        return (f"{READ} WHERE member_id = ? AND attribute = ANY(?) {_ORDER}",
                (member_id, list(attributes)))
