"""Brands' names in SQLCipher, as the gateway shows them:
:class:`brand_gateway.repositories.BrandNameRepository` (the ``brands`` table is the vault's)."""

from __future__ import annotations

from collections.abc import Collection

from vault.sqlcipher import SqlcipherRepository


class SqlcipherBrandNames(SqlcipherRepository):
    def names(self, brand_ids: Collection[str] | None = None) -> dict[str, str]:
        if brand_ids is None:
            rows = self._db.all("SELECT id, name FROM brands")
        elif not brand_ids:
            return {}
        else:
            wanted = sorted(brand_ids)
            rows = self._db.all(f"SELECT id, name FROM brands WHERE id IN"
                                f" ({','.join('?' * len(wanted))})", wanted)
        return {row["id"]: row["name"] for row in rows}
