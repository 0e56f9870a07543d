"""Whether a background pass has endings to record, in PostgreSQL:
:class:`brand_gateway.repositories.EndingRepository` (its one statement is the same on both
engines: :class:`brand_gateway.sql.endings.SqlEndings`; here its probes are of
partial indexes)."""

from __future__ import annotations

from ..sql.endings import SqlEndings


class PostgresqlEndings(SqlEndings):
    """Nothing of its own: its statement is the same on both engines."""
