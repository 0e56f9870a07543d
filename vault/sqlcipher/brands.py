"""Brands (name and categories) in SQLCipher: :class:`vault.repositories.BrandRepository`
(:mod:`vault.sql.brands`). A brand whose id or name is taken is refused by the table's
constraints, which the insert reports as a constraint violation."""

from __future__ import annotations

import json

from ..brands import Brand
from ..errors import ConstraintViolationError
from ..sql.brands import SqlBrands


class SqlcipherBrands(SqlBrands):
    def insert(self, brand: Brand, created_at: int) -> bool:
        try:
            self._db.execute(
                "INSERT INTO brands (id, name, categories, created_at) VALUES (?, ?, ?, ?)",
                (brand.id, brand.name, json.dumps(list(brand.categories)), created_at))
        except ConstraintViolationError:
            return False
        return True
