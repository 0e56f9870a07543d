"""Whether a background pass has endings to record, in SQLCipher:
:class:`brand_gateway.repositories.EndingRepository` (its one statement is the same on both
engines: :class:`brand_gateway.sql.endings.SqlEndings`)."""

from __future__ import annotations

from ..sql.endings import SqlEndings


class SqlcipherEndings(SqlEndings):
    """Nothing of its own: its statement is the same on both engines."""
