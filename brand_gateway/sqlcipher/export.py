"""What a member's export reads of the gateway's tables, in SQLCipher:
:class:`brand_gateway.repositories.GatewayExportRepository` (what both engines share is
:class:`brand_gateway.sql.export.SqlGatewayExport`). A family's rows are found by its id; a
payload's subject by ``json_extract``.
"""

from __future__ import annotations

from ..sql.export import SqlGatewayExport


class SqlcipherGatewayExport(SqlGatewayExport):
    _BYTEWISE = ""
    _SUBJECT = "json_extract(o.payload, '$.data.subject')"

    def _of_family(self, member_id: str, family_id: str) -> tuple[str, tuple[str, ...]]:
        return "family_id = ?", (family_id,)
