"""Brands' names in PostgreSQL, as the gateway shows them:
:class:`brand_gateway.repositories.BrandNameRepository` (the ``brands`` table is the vault's,
shared)."""

from __future__ import annotations

from collections.abc import Collection

from vault.postgresql import PostgresqlRepository


class PostgresqlBrandNames(PostgresqlRepository):
    def names(self, brand_ids: Collection[str] | None = None) -> dict[str, str]:
        if brand_ids is None:
            rows = self._db.all("SELECT id, name FROM brands")
        elif not brand_ids:
            return {}
        else:
            rows = self._db.all("SELECT id, name FROM brands WHERE id = ANY(?)",
                                (sorted(brand_ids),))
        return {row["id"]: row["name"] for row in rows}
