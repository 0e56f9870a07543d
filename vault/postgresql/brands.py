"""Brands (name and categories) in PostgreSQL: :class:`vault.repositories.BrandRepository`
(:mod:`vault.sql.brands`).

``brands`` is shared by every member (a reference table under Citus). A brand whose id or
name is taken is refused by the table's constraints (``ON CONFLICT DO NOTHING``), so two
hosts adding one name at once add it once. Brands are listed by name in SQLite's order
(bytes compared: ``COLLATE "C"``), whatever the database's collation.
"""

from __future__ import annotations

import json

from ..brands import Brand
from ..sql.brands import SqlBrands


class PostgresqlBrands(SqlBrands):
    _BY_NAME = 'ORDER BY name COLLATE "C"'

    def insert(self, brand: Brand, created_at: int) -> bool:
        return bool(self._db.execute(
            "INSERT INTO brands (id, name, categories, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (brand.id, brand.name, json.dumps(list(brand.categories)), created_at)).rowcount)
