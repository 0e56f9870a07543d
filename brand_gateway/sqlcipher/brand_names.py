"""Brands' names in SQLCipher, as the gateway shows them:
:class:`brand_gateway.repositories.BrandNameRepository` (what both engines share is
:class:`brand_gateway.sql.brand_names.SqlBrandNames`)."""

from __future__ import annotations

from typing import Any

from ..sql.brand_names import SqlBrandNames


class SqlcipherBrandNames(SqlBrandNames):
    def _named(self, brand_ids: list[str]) -> list[Any]:
        return self._db.all(f"SELECT id, name FROM brands WHERE id IN"
                            f" ({','.join('?' * len(brand_ids))})", brand_ids)
