"""Brands' names in PostgreSQL, as the gateway shows them:
:class:`brand_gateway.repositories.BrandNameRepository` (what both engines share is
:class:`brand_gateway.sql.brand_names.SqlBrandNames`; the ``brands`` table is shared)."""

from __future__ import annotations

from typing import Any

from ..sql.brand_names import SqlBrandNames


class PostgresqlBrandNames(SqlBrandNames):
    def _named(self, brand_ids: list[str]) -> list[Any]:
        return self._db.all("SELECT id, name FROM brands WHERE id = ANY(?)", (brand_ids,))
