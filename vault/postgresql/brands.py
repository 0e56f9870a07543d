"""Brands (name and categories) in PostgreSQL: :class:`vault.repositories.BrandRepository`.

``brands`` is shared by every member (a reference table under Citus). A brand whose id or
name is taken is refused by the table's constraints (``ON CONFLICT DO NOTHING``), so two
hosts adding one name at once add it once. Brands are listed by name in SQLite's order
(bytes compared: ``COLLATE "C"``), whatever the database's collation.
"""

from __future__ import annotations

import json
from typing import Any

from ..brands import Brand
from . import PostgresqlRepository


def _brand(row: Any) -> Brand:
    return Brand(row["id"], row["name"], tuple(json.loads(row["categories"])))


class PostgresqlBrands(PostgresqlRepository):
    def insert(self, brand: Brand, created_at: int) -> bool:
        return bool(self._db.execute(
            "INSERT INTO brands (id, name, categories, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (brand.id, brand.name, json.dumps(list(brand.categories)), created_at)).rowcount)

    def all(self) -> list[Brand]:
        return [_brand(row) for row in self._db.all(
            'SELECT id, name, categories FROM brands ORDER BY name COLLATE "C"')]

    def get(self, brand_id: str) -> Brand | None:
        row = self._db.one("SELECT id, name, categories FROM brands WHERE id = ?", (brand_id,))
        return None if row is None else _brand(row)

    def exists(self, brand_id: str) -> bool:
        return self._db.one("SELECT 1 FROM brands WHERE id = ?", (brand_id,)) is not None
