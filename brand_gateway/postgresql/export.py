"""What a member's export reads of the gateway's tables, in PostgreSQL:
:class:`brand_gateway.repositories.GatewayExportRepository` (what both engines share is
:class:`brand_gateway.sql.export.SqlGatewayExport`).

Every read of member-owned tables names the member, joins of two of them included (co-located
under Citus). A payload is text, its subject read as JSON (``payload::json #>>
'{data,subject}'``, where SQLite has ``json_extract``). Ids order by their bytes, as on SQLite.
"""

from __future__ import annotations

from ..sql.export import SqlGatewayExport


class PostgresqlGatewayExport(SqlGatewayExport):
    _BYTEWISE = ' COLLATE "C"'
    _SUBJECT = "o.payload::json #>> '{data,subject}'"

    def _of_family(self, member_id: str, family_id: str) -> tuple[str, tuple[str, ...]]:
        return "member_id = ? AND family_id = ?", (member_id, family_id)
